package imapgw

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/bucketmail/bucketmail/internal/store"
)

// batchSize is how many index entries one range query loads.
const batchSize = 256

// Fetch answers FETCH and UID FETCH (RFC 9051 section 6.4.5). Everything
// but body sections is served from the index (invariant 5). Fetching a body
// section without PEEK sets \Seen unless the mailbox is read-only, and the
// new flags are then sent along (RFC 9051 section 6.4.5, BODY[]).
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	missed, err := s.fetch(w, sel, sel.resolve(numSet), options)
	if err == nil && missed > 0 {
		// The others are answered; these were expunged by another
		// session and their objects are gone (RFC 5530 section 3).
		return errExpungeIssued
	}
	return err
}

// fetch writes the FETCH responses of the messages at view positions idx.
// It skips and counts (missed) those another session expunged whose data
// is gone.
func (s *session) fetch(w *imapserver.FetchWriter, sel *selected, idx []int, options *imap.FetchOptions) (missed int, err error) {
	markSeen := !sel.readOnly && setsSeen(options)
	how := listFull
	if len(options.BodySection) == 0 && len(options.BinarySection) == 0 && len(options.BinarySectionSize) == 0 {
		how = listHeads
		if options.Envelope || options.BodyStructure != nil {
			how = listMeta
		}
	}
	gone := 0 // expunged, and their objects deleted
	missed, err = s.forEach(sel, idx, how, func(batch []*msgData) error {
		var seen map[uint32]bool
		if markSeen {
			var err error
			if seen, err = s.markSeen(sel, batch); err != nil {
				return err
			}
		}
		for _, d := range batch {
			if err := s.gone(); err != nil {
				return err
			}
			err := s.writeFetch(w, d, options, seen[d.m.UID])
			if err == errExpungeIssued {
				gone++ // nothing was written for it
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return missed + gone, err
}

// setsSeen reports whether options fetch a body section without PEEK.
func setsSeen(options *imap.FetchOptions) bool {
	for _, bs := range options.BodySection {
		if !bs.Peek {
			return true
		}
	}
	for _, bs := range options.BinarySection {
		if !bs.Peek {
			return true
		}
	}
	return false
}

// markSeen adds \Seen to the messages of batch that lack it and returns the
// UIDs whose flags changed; batch entries get their new flags.
func (s *session) markSeen(sel *selected, batch []*msgData) (map[uint32]bool, error) {
	var uids []uint32
	for _, d := range batch {
		if !hasFlag(d.m.Flags, store.FlagSeen) {
			uids = append(uids, d.m.UID)
		}
	}
	if len(uids) == 0 {
		return nil, nil
	}
	changed, err := s.mailboxes().SetFlags(s.ctx, s.user.ID, sel.mb.ID, uids, store.FlagsAdd, []string{store.FlagSeen})
	if err != nil {
		return nil, s.protoErr("fetch: set seen", err, nil)
	}
	seen := make(map[uint32]bool, len(changed))
	byUID := make(map[uint32]*msgData, len(batch))
	for _, d := range batch {
		byUID[d.m.UID] = d
	}
	for _, m := range changed {
		seen[m.UID] = true
		if d := byUID[m.UID]; d != nil {
			d.m.Flags, d.m.ModSeq = m.Flags, m.ModSeq
		}
		sel.noteModSeq(m.UID, m.ModSeq)
	}
	return seen, nil
}

// writeFetch writes one FETCH response. Everything that can fail is done
// before the response starts, so a failure never leaves half a response.
func (s *session) writeFetch(w *imapserver.FetchWriter, d *msgData, options *imap.FetchOptions, withFlags bool) error {
	var (
		env      *imap.Envelope
		bs       imap.BodyStructure
		err      error
		sections = make([][]byte, len(options.BodySection))
		binaries = make([][]byte, len(options.BinarySection))
		sizes    = make([]uint32, len(options.BinarySectionSize))
	)
	if options.Envelope {
		if env, err = d.envelope(); err != nil {
			return s.protoErr("fetch envelope", err, nil)
		}
	}
	if options.BodyStructure != nil {
		if bs, err = d.bodyStructure(); err != nil {
			return s.protoErr("fetch bodystructure", err, nil)
		}
	}
	for i, sec := range options.BodySection {
		if sections[i], err = d.section(sec); err != nil {
			return s.protoErr("fetch body", err, nil)
		}
	}
	for i, sec := range options.BinarySection {
		if binaries[i], err = d.binary(sec); err != nil {
			return s.protoErr("fetch binary", err, nil)
		}
	}
	for i, sec := range options.BinarySectionSize {
		if sizes[i], err = d.binarySectionSize(sec); err != nil {
			return s.protoErr("fetch binary.size", err, nil)
		}
	}

	rw := w.CreateMessage(uint32(d.pos + 1))
	rw.WriteUID(imap.UID(d.m.UID))
	if options.Flags || withFlags {
		rw.WriteFlags(imapFlags(d.m.Flags))
	}
	if options.InternalDate {
		rw.WriteInternalDate(d.m.InternalDate)
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(d.m.Size)
	}
	if env != nil {
		rw.WriteEnvelope(env)
	}
	if bs != nil {
		rw.WriteBodyStructure(bs)
	}
	for i, sec := range options.BodySection {
		if err := writeLiteral(rw.WriteBodySection(sec, int64(len(sections[i]))), sections[i]); err != nil {
			return err
		}
	}
	for i, sec := range options.BinarySection {
		if err := writeLiteral(rw.WriteBinarySection(sec, int64(len(binaries[i]))), binaries[i]); err != nil {
			return err
		}
	}
	for i, sec := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(sec, sizes[i])
	}
	return rw.Close()
}

func writeLiteral(wc interface {
	Write([]byte) (int, error)
	Close() error
}, b []byte) error {
	_, werr := wc.Write(b)
	cerr := wc.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

// listing says what forEach loads of each message.
type listing int

const (
	listFull  listing = iota // everything, summaries included
	listHeads                // no summaries (msgData.summary loads one if asked)
	listMeta                 // heads, and the summaries whose fetchMeta is not cached
)

// forEach loads the index entries at view positions idx (ascending) and
// hands them to fn batch by batch. Entries expunged meanwhile by another
// session are skipped and counted (missed). Heads come from the head
// cache; whole entries (with summaries) from a range query per run of
// consecutive positions.
func (s *session) forEach(sel *selected, idx []int, how listing, fn func(batch []*msgData) error) (missed int, err error) {
	if how == listFull {
		return s.forEachListed(sel, idx, fn)
	}
	hs, err := s.cachedHeads(sel, false)
	if err != nil {
		return 0, s.protoErr("load messages", err, nil)
	}
	again := false
	var (
		ms    []store.Message
		batch []*msgData
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if how == listMeta {
			if err := s.loadMeta(sel, batch); err != nil {
				return err
			}
		}
		err := fn(batch)
		ms, batch = nil, nil
		return err
	}
	k := 0
	for _, pos := range idx {
		uid := sel.msgs[pos].uid
		j := findHead(hs, k, uid)
		if j < 0 && !again {
			// Newer than the cache, or expunged: ask once what changed.
			again = true
			if hs, err = s.cachedHeads(sel, true); err != nil {
				return missed, s.protoErr("load messages", err, nil)
			}
			j = findHead(hs, 0, uid)
		}
		if j < 0 {
			missed++ // expunged meanwhile
			continue
		}
		k = j + 1
		if ms == nil {
			ms = make([]store.Message, 0, min(batchSize, len(idx)))
			batch = make([]*msgData, 0, cap(ms))
		}
		ms = append(ms, hs[j])
		batch = append(batch, &msgData{s: s, sel: sel, pos: pos, m: &ms[len(ms)-1], heads: true})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return missed, err
			}
		}
	}
	return missed, flush()
}

// cachedHeads returns the heads of the selected mailbox from the head
// cache, complete up to the view's mod-sequence and the session's own
// changes at least.
func (s *session) cachedHeads(sel *selected, again bool) ([]store.Message, error) {
	return s.srv.heads.heads(s.ctx, s.mailboxes(), sel.headKey(s.user.ID), max(sel.modSeq, sel.ownModSeq), again)
}

// forEachListed is forEach for whole entries: a range query per run of
// consecutive positions.
func (s *session) forEachListed(sel *selected, idx []int, fn func(batch []*msgData) error) (missed int, err error) {
	for _, run := range runs(idx, batchSize) {
		first, last := sel.msgs[run[0]].uid, sel.msgs[run[len(run)-1]].uid
		ms, err := s.mailboxes().Messages(s.ctx, s.user.ID, sel.mb.ID, first, last, 0)
		if err != nil {
			return missed, s.protoErr("load messages", err, nil)
		}
		batch := make([]*msgData, 0, len(ms))
		k := 0
		for _, pos := range run {
			uid := sel.msgs[pos].uid
			for k < len(ms) && ms[k].UID < uid {
				k++
			}
			if k < len(ms) && ms[k].UID == uid {
				batch = append(batch, &msgData{s: s, sel: sel, pos: pos, m: &ms[k]})
			} else {
				missed++
			}
		}
		if err := fn(batch); err != nil {
			return missed, err
		}
	}
	return missed, nil
}

// loadMeta gives each message of batch its fetchMeta from the cache, and
// loads the summaries of the others in one range query.
func (s *session) loadMeta(sel *selected, batch []*msgData) error {
	var miss []*msgData
	for _, d := range batch {
		if d.fm = s.srv.meta.get(d.m.BlobKey); d.fm == nil && d.m.Summary == nil {
			miss = append(miss, d)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	ms, err := s.mailboxes().Messages(s.ctx, s.user.ID, sel.mb.ID, miss[0].m.UID, miss[len(miss)-1].m.UID, 0)
	if err != nil {
		return s.protoErr("load messages", err, nil)
	}
	byUID := make(map[uint32]*store.Message, len(ms))
	for i := range ms {
		byUID[ms[i].UID] = &ms[i]
	}
	for _, d := range miss {
		if m := byUID[d.m.UID]; m != nil {
			d.m.Prefix, d.m.Summary = m.Prefix, m.Summary
		} else {
			d.expunged = true // by another session, since the heads were listed
		}
		d.heads = false
	}
	return nil
}
