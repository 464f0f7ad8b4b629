package redis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// stagingTTL bounds how long the keys staged by an ImportUser that died
// half-way stay in Redis.
const stagingTTL = time.Hour

// stagedMailbox is one mailbox of a snapshot, checked and ready to stage.
type stagedMailbox struct {
	snapID, name, id string      // id: the fresh mailbox ID it gets
	floor            uint32      // the snapshot's UIDVALIDITY
	fields           []any       // status fields but uv
	uids, modseqs    []goredis.Z // :u and :m
	heads, bodies    []any       // field, value pairs
}

// ImportUser replaces snap.UserID's index with snap. The mailboxes are
// written under staging keys P:import:<token>:... that nobody reads (they
// expire if the import dies half-way), then one script (import.lua)
// replaces the user's keys with them atomically: mailboxes keep their
// names, UIDs, flags and modseqs but get fresh IDs and a UIDVALIDITY above
// the snapshot's and every value the user had (RFC 9051 section 2.3.1.1).
// The references of the imported entries are counted before the script
// and those of the replaced entries dropped after it (see refs.go); the
// replaced entries' objects that lose their last reference are NOT
// scheduled for deletion, as in the sqlite driver: an entry newer than the
// snapshot is about to be delivered again by reindex, and leaking an object
// is safer than losing one. The imported keys leave the delete schedule.
// The change counter ends above the snapshot's.
func (db *DB) ImportUser(ctx context.Context, snap *store.UserSnapshot) error {
	const op = "import user"
	if err := store.CheckUserSnapshot(snap); err != nil {
		return wrap(op, err)
	}
	if !validUserID(snap.UserID) {
		return wrap(op, errorf(store.ErrInvalid, "snapshot user %q", snap.UserID))
	}
	subs, err := store.SnapshotSubscriptions(snap)
	if err != nil {
		return wrap(op, err)
	}
	mbs, blobs, err := planImport(snap, subs)
	if err != nil {
		return wrap(op, err)
	}
	// A mailbox's subscription is its 'sub' field; the other names go to
	// P:subs.
	isMailbox := map[string]bool{}
	for _, m := range mbs {
		isMailbox[m.name] = true
	}
	var orphans []any
	for _, name := range subs {
		if !isMailbox[name] {
			orphans = append(orphans, name)
		}
	}
	P := userPrefix(snap.UserID)
	for attempt := 0; ; attempt++ {
		S := P + ":import:" + store.NewID()
		err := db.stage(ctx, S, snap, mbs, orphans)
		if err == nil {
			err = db.ref(ctx, blobs)
			if err != nil {
				db.unstage(S, mbs)
				return wrap(op, err)
			}
			var old []string
			old, err = db.swapIn(ctx, P, S, snap.ChangeSeq, mbs)
			if err == nil {
				// Drop the replaced entries' references; an orphan is left
				// to leak (see above).
				if _, err := db.unref(ctx, old); err != nil {
					return wrap(op, err)
				}
				return wrap(op, db.forgetBlobDeletes(ctx, blobs))
			}
			if isUncertain(err) {
				return wrap(op, err) // it may have committed: keep the references
			}
			if _, uerr := db.unref(ctx, blobs); uerr != nil {
				return wrap(op, uerr)
			}
		}
		db.unstage(S, mbs)
		if isRetry(err) && attempt < 3 {
			for i := range mbs {
				mbs[i].id = newMailboxID()
			}
			continue
		}
		return wrap(op, err)
	}
}

// planImport checks snap and prepares its mailboxes, those named in subs
// (sorted) subscribed; it returns them and the blob key of every message.
func planImport(snap *store.UserSnapshot, subs []string) ([]stagedMailbox, []string, error) {
	var out []stagedMailbox
	var blobs []string
	names := map[string]bool{}
	for _, ms := range snap.Mailboxes {
		name, err := store.CheckMailboxName(ms.Mailbox.Name)
		if err != nil {
			return nil, nil, err
		}
		if names[name] {
			return nil, nil, errorf(store.ErrInvalid, "mailbox %q twice in the snapshot", name)
		}
		names[name] = true
		if ms.Mailbox.UIDValidity == math.MaxUint32 {
			return nil, nil, errorf(store.ErrInvalid, "mailbox %q: UIDVALIDITY %d cannot grow", name, ms.Mailbox.UIDValidity)
		}
		special := ms.Mailbox.SpecialUse
		if special != "" && (!strings.HasPrefix(special, `\`) || strings.ContainsAny(special, " \t\r\n")) {
			return nil, nil, errorf(store.ErrInvalid, "mailbox %q: special-use %q", name, special)
		}
		sm := stagedMailbox{snapID: ms.Mailbox.ID, name: name, id: newMailboxID(), floor: ms.Mailbox.UIDValidity}
		next, hms := max(ms.Mailbox.UIDNext, 1), max(ms.Mailbox.HighestModSeq, 1)
		for _, m := range ms.Messages {
			next, hms = max(next, m.UID+1), max(hms, m.ModSeq)
		}
		// The entries keep their EMAILIDs: those derived from one base
		// with their own UIDs (all inserts into the snapshot's mailbox)
		// through the mailbox's 'eb' and 'es' fields, the others in their
		// heads.
		ids := emailIDs{split: next}
		for _, m := range ms.Messages {
			if base, uid, ok := store.ParseEmailID(m.EmailID); ok && uid == m.UID {
				ids.base = base
				break
			}
		}
		var n, unseen, del uint32
		var size int64
		uids := map[uint32]bool{}
		for _, m := range ms.Messages {
			if m.UID == 0 || m.UID == math.MaxUint32 || uids[m.UID] {
				return nil, nil, errorf(store.ErrInvalid, "mailbox %q: uid %d", name, m.UID)
			}
			uids[m.UID] = true
			if m.BlobKey == "" || m.Size < 0 || strings.ContainsFunc(m.BlobKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return nil, nil, errorf(store.ErrInvalid, "mailbox %q: message %d: blob %q size %d", name, m.UID, m.BlobKey, m.Size)
			}
			flags, err := store.NormalizeFlags(m.Flags)
			if err != nil {
				return nil, nil, err
			}
			modseq := max(m.ModSeq, 1)
			n++
			size += m.Size
			if !slices.Contains(flags, store.FlagSeen) {
				unseen++
			}
			if slices.Contains(flags, store.FlagDeleted) {
				del++
			}
			eid := m.EmailID
			if !store.ValidObjectID(eid) || ids.base != "" && eid == store.EmailIDOf(ids.base, m.UID) {
				eid = "" // derived (a snapshot from before EMAILIDs: from the new mailbox ID)
			}
			uid := strconv.FormatUint(uint64(m.UID), 10)
			sm.uids = append(sm.uids, goredis.Z{Score: float64(m.UID), Member: uid})
			sm.modseqs = append(sm.modseqs, goredis.Z{Score: float64(modseq), Member: uid})
			sm.heads = append(sm.heads, uid, headOf(modseq, m.Size, m.BlobKey, flags, m.InternalDate, m.SaveDate, eid))
			sm.bodies = append(sm.bodies, uid, encodeBody(m.NewMessage))
			blobs = append(blobs, m.BlobKey)
		}
		sub := "0"
		if _, ok := slices.BinarySearch(subs, name); ok {
			sub = "1"
		}
		// Nothing is recent and no expunge is remembered: the mailbox has
		// a new UIDVALIDITY, and clients resynchronise it from scratch.
		sm.fields = []any{"name", name, "special", special, "sub", sub, "next", next, "hms", hms,
			"n", n, "unseen", unseen, "size", size, "del", del, "kw", strings.Join(store.SnapshotKeywords(ms), " "),
			"rec", next - 1, "xf", hms, "eb", ids.base, "es", ids.split}
		out = append(out, sm)
	}
	return out, blobs, nil
}

// headOf is a message head as the scripts keep it (see keys.go); a zero
// saved is the internal date, an empty emailID is derived.
func headOf(modseq uint64, size int64, blobKey string, flags []string, date, saved time.Time, emailID string) string {
	save := int64(0)
	if !saved.IsZero() {
		save = saved.Unix() - floorDiv(date.UnixNano(), 1e9)
	}
	h := fmt.Sprintf("%d\n%d\n%s\n%s\n%d", modseq, size, blobKey, strings.Join(flags, " "), date.UnixNano())
	if save != 0 || emailID != "" {
		h += fmt.Sprintf("\n%d", save)
	}
	if emailID != "" {
		h += "\n" + emailID
	}
	return h
}

// stageChunk is how many entries one staging command writes.
const stageChunk = 500

// stagedKey is where mailbox i is staged under S.
func stagedKey(S string, i int) string { return S + ":" + strconv.Itoa(i) }

// stage writes mbs, snap's idempotency keys and the subscribed names that
// are not mailboxes (orphans) under S, each key with stagingTTL.
func (db *DB) stage(ctx context.Context, S string, snap *store.UserSnapshot, mbs []stagedMailbox, orphans []any) error {
	idOf := map[string]string{} // snapshot mailbox ID → fresh ID
	for _, m := range mbs {
		idOf[m.snapID] = m.id
	}
	_, err := db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, m := range mbs {
			k := stagedKey(S, i)
			p.HSet(ctx, k, m.fields...)
			for j := 0; j < len(m.uids); j += stageChunk {
				p.ZAdd(ctx, k+":u", m.uids[j:min(j+stageChunk, len(m.uids))]...)
				p.ZAdd(ctx, k+":m", m.modseqs[j:min(j+stageChunk, len(m.modseqs))]...)
			}
			for j := 0; j < len(m.heads); j += 2 * stageChunk {
				p.HSet(ctx, k+":h", m.heads[j:min(j+2*stageChunk, len(m.heads))]...)
				p.HSet(ctx, k+":b", m.bodies[j:min(j+2*stageChunk, len(m.bodies))]...)
			}
			for _, key := range []string{k, k + ":u", k + ":m", k + ":h", k + ":b"} {
				p.PExpire(ctx, key, stagingTTL)
			}
		}
		var idem []any
		flush := func() {
			if len(idem) > 0 {
				p.HSet(ctx, S+":idem", idem...)
				idem = idem[:0:0]
			}
		}
		for key, ref := range snap.IdemKeys {
			// An entry of a mailbox the snapshot does not have keeps only
			// its UID, which is all a duplicate delivery returns.
			idem = append(idem, key, idOf[ref.MailboxID]+":"+strconv.FormatUint(uint64(ref.UID), 10))
			if len(idem) >= 2*stageChunk {
				flush()
			}
		}
		flush()
		p.PExpire(ctx, S+":idem", stagingTTL)
		for j := 0; j < len(orphans); j += stageChunk {
			p.SAdd(ctx, S+":subs", orphans[j:min(j+stageChunk, len(orphans))]...)
		}
		p.PExpire(ctx, S+":subs", stagingTTL)
		return nil
	})
	return err
}

// unstage deletes what stage wrote, best effort: the keys expire anyway.
func (db *DB) unstage(S string, mbs []stagedMailbox) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys := []string{S + ":idem", S + ":subs"}
	for i := range mbs {
		k := stagedKey(S, i)
		keys = append(keys, k, k+":u", k+":h", k+":b")
	}
	_, _ = db.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k) // one key per DEL: no CROSSSLOT doubts
		}
		return nil
	})
}

// swapIn runs import.lua and returns the blob keys of the replaced entries.
func (db *DB) swapIn(ctx context.Context, P, S string, seq uint64, mbs []stagedMailbox) ([]string, error) {
	args := []any{P, S, seq}
	for i, m := range mbs {
		args = append(args, stagedKey(S, i), m.name, m.id, m.floor)
	}
	return db.run(ctx, scripts.importUser, P+":meta", args...).StringSlice()
}
