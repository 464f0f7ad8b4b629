package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// openFulls returns an open function for the ledger and snapshot suites,
// whose round-trip tests open two stores that must not share data: the
// n-th store a test opens (from 0) is urls[n], flushed.
func openFulls(urls ...string) func(t *testing.T) store.Store {
	var mu sync.Mutex
	opened := map[*testing.T]int{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		n := opened[t]
		opened[t]++
		mu.Unlock()
		if n >= len(urls) {
			t.Fatalf("test opened %d stores, only %d databases", n+1, len(urls))
		}
		return openURL(t, urls[n], true)
	}
}

func TestLedger(t *testing.T) {
	srv := servers.Redis(t)
	base := "redis://" + srv.Addr + "/"
	open := openFulls(base+"0", base+"1")
	storetest.RunLedger(t, open)
	storetest.RunSnapshots(t, open)
}

// TestLedgerCluster runs the ledger and snapshot suites on Redis Clusters
// (two, for the round trips between stores): no operation crosses slots.
func TestLedgerCluster(t *testing.T) {
	a, b := startCluster(t), startCluster(t)
	open := openFulls(a, b)
	storetest.RunLedger(t, open)
	storetest.RunSnapshots(t, open)
}

// TestLedgerKeysShareSlot checks on a Cluster that the ledger's keys share
// the {ledger} slot, that the done set lives in its queue's slot, and that
// an import leaves no staging keys behind.
func TestLedgerKeysShareSlot(t *testing.T) {
	db := openURL(t, startCluster(t), true)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Enqueue(ctx, store.Job{ID: "J1", Queue: store.QueueInbound}))
	jobs, err := db.Claim(ctx, store.QueueInbound, "c", 1, 0, time.Minute)
	must(err)
	must(db.Ack(ctx, jobs[0]))
	_, err = db.TryLease(ctx, "reconcile", "h", time.Minute)
	must(err)
	must(db.SetCheckpoint(ctx, "reconcile", "msg/x"))
	must(db.ScheduleBlobDeletes(ctx, []string{"msg/a", "msg/b"}, time.Now()))
	must(db.EnsureUser(ctx, "u1"))
	inbox, err := db.Mailbox(ctx, "u1", store.Inbox)
	must(err)
	_, _, err = db.InsertMessage(ctx, "u1", inbox.ID, "J1/u1", store.NewMessage{BlobKey: "msg/a", Size: 1})
	must(err)
	snap, err := db.ExportUser(ctx, "u1")
	must(err)
	must(db.ImportUser(ctx, snap))

	keys, err := db.Client().Keys(ctx, "*").Result()
	must(err)
	slot := func(key string) int64 {
		t.Helper()
		n, err := db.Client().ClusterKeySlot(ctx, key).Result()
		must(err)
		return n
	}
	want := map[string]int64{
		"{ledger}:":                       slot("{ledger}"),
		"{q:" + store.QueueInbound + "}:": slot("{q:" + store.QueueInbound + "}"),
		"{u:u1}:":                         slot("{u:u1}"),
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if strings.Contains(k, ":import:") {
			t.Errorf("staging key %s left after the import", k)
		}
		for prefix, s := range want {
			if strings.HasPrefix(k, prefix) {
				seen[k] = true
				if got := slot(k); got != s {
					t.Errorf("key %s in slot %d, want %d", k, got, s)
				}
			}
		}
	}
	for _, k := range []string{"{ledger}:lease:reconcile", "{ledger}:checkpoints", "{ledger}:gc",
		"{q:" + store.QueueInbound + "}:done"} {
		if !seen[k] {
			t.Errorf("key %s missing; keys: %q", k, keys)
		}
	}
}

// TestJobKnownRetention checks that Ack prunes done records older than
// store.DoneRetention and that JobKnown ignores them.
func TestJobKnownRetention(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	done := queuePrefix(store.QueueInbound) + ":done"
	old := time.Now().Add(-store.DoneRetention - time.Hour).UnixMilli()
	if err := db.Client().ZAdd(ctx, done, goredis.Z{Score: float64(old), Member: "OLD"}).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.JobKnown(ctx, store.QueueInbound, "OLD"); err != nil || ok {
		t.Fatalf("job acked before the retention: known %v, %v", ok, err)
	}
	if err := db.Enqueue(ctx, store.Job{ID: "NEW", Queue: store.QueueInbound}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.JobQueued(ctx, store.QueueInbound, "NEW"); err != nil || !ok {
		t.Fatalf("pending job: queued %v, %v", ok, err)
	}
	jobs, err := db.Claim(ctx, store.QueueInbound, "c", 1, 0, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	if err := db.Ack(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	ids, err := db.Client().ZRange(ctx, done, 0, -1).Result()
	if err != nil || len(ids) != 1 || ids[0] != "NEW" {
		t.Fatalf("done set after ack = %q, %v; want only NEW", ids, err)
	}
	if ok, err := db.JobQueued(ctx, store.QueueInbound, "NEW"); err != nil || ok {
		t.Fatalf("acked job: queued %v, %v", ok, err)
	}
	if ok, err := db.JobKnown(ctx, store.QueueInbound, "NEW"); err != nil || !ok {
		t.Fatalf("acked job: known %v, %v", ok, err)
	}
}

// TestExportUserConsistent exports a user while another client keeps
// delivering to it: every snapshot must be one state of the index, with
// the counts of each mailbox matching its messages, each message's body
// present and each idempotency key pointing at a message.
func TestExportUserConsistent(t *testing.T) {
	url := servers.Redis(t).URL()
	db, writer := openURL(t, url, true), openURL(t, url, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			m := storetest.BenchMessage(i)
			if _, _, err := writer.InsertMessage(ctx, "u", inbox.ID, fmt.Sprintf("J%d/u", i), m); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	}()
	check := func(snap *store.UserSnapshot) {
		t.Helper()
		uids := map[uint32]bool{}
		for _, ms := range snap.Mailboxes {
			if int(ms.Mailbox.Messages) != len(ms.Messages) {
				t.Fatalf("%s: status says %d messages, snapshot has %d", ms.Mailbox.Name, ms.Mailbox.Messages, len(ms.Messages))
			}
			for _, m := range ms.Messages {
				if len(m.Summary) == 0 || m.UID >= ms.Mailbox.UIDNext || m.ModSeq > ms.Mailbox.HighestModSeq {
					t.Fatalf("%s: message %+v inconsistent with %+v", ms.Mailbox.Name, m, ms.Mailbox)
				}
				if ms.Mailbox.ID == inbox.ID {
					uids[m.UID] = true
				}
			}
		}
		if len(snap.IdemKeys) != len(uids) {
			t.Fatalf("%d idempotency keys, %d messages", len(snap.IdemKeys), len(uids))
		}
		for k, ref := range snap.IdemKeys {
			if ref.MailboxID != inbox.ID || !uids[ref.UID] {
				t.Fatalf("idempotency key %s → %+v: no such message", k, ref)
			}
		}
	}
	deadline := time.Now().Add(time.Second)
	for n := 0; time.Now().Before(deadline) || n < 5; n++ {
		snap, err := db.ExportUser(ctx, "u")
		if err != nil {
			t.Fatal(err)
		}
		check(snap)
		// The fallback read, directly.
		snap, ok, err := db.exportOnce(ctx, "u", true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			check(snap)
		}
	}
	cancel()
	wg.Wait()
}

// countHook counts the commands a client sends (a pipeline's one by one).
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

var _ goredis.Hook = (*countHook)(nil)

// TestCommandCounts bounds the commands of Ack (one script) and of
// ExportUser and ImportUser for a user of 1,000 messages, and logs them.
func TestCommandCounts(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	h := &countHook{}
	db.Client().AddHook(h)
	count := func(what string, limit int64, f func() error) {
		t.Helper()
		before := h.n.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		n := h.n.Load() - before
		t.Logf("%s: %d commands", what, n)
		if n > limit {
			t.Errorf("%s sent %d commands, want at most %d", what, n, limit)
		}
	}
	for _, id := range []string{"J1", "J2"} {
		if err := db.Enqueue(ctx, store.Job{ID: id, Queue: store.QueueInbound}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := db.Claim(ctx, store.QueueInbound, "c", 2, 0, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	// The first Ack may load the script (NOSCRIPT, then EVAL).
	if err := db.Ack(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	count("Ack", 1, func() error { return db.Ack(ctx, jobs[1]) })

	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if _, _, err := db.InsertMessage(ctx, "u", inbox.ID, fmt.Sprintf("J%d/u", i), storetest.BenchMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	var snap *store.UserSnapshot
	count("ExportUser of 1,000 messages", 30, func() (err error) {
		snap, err = db.ExportUser(ctx, "u")
		return err
	})
	// Staging: a chunk of 500 entries per command; references: one
	// pipeline of 1,000 INCRBY up front, one of 1,000 unref scripts after.
	// The first import loads the scripts.
	if err := db.ImportUser(ctx, snap); err != nil {
		t.Fatal(err)
	}
	count("ImportUser of 1,000 messages", 2100, func() error { return db.ImportUser(ctx, snap) })
}

// TestImportStagingExpires checks that every key ImportUser stages carries
// a TTL, so that an import that dies before its swap leaves nothing for
// good, and that the staged keys are invisible to the user's reads.
func TestImportStagingExpires(t *testing.T) {
	db := openURL(t, servers.Redis(t).URL(), true)
	ctx := context.Background()
	snap := &store.UserSnapshot{Version: store.SnapshotVersion, UserID: "u",
		Mailboxes: []store.MailboxSnapshot{{
			Mailbox:  store.Mailbox{ID: "m1", Name: "INBOX", UIDValidity: 7, UIDNext: 3},
			Messages: []store.Message{{UID: 2, ModSeq: 4, NewMessage: store.NewMessage{BlobKey: "msg/x", Size: 3}}},
		}},
		IdemKeys: map[string]store.IdemRef{"J/u": {MailboxID: "m1", UID: 2}},
	}
	mbs, _, err := planImport(snap, nil)
	if err != nil {
		t.Fatal(err)
	}
	S := userPrefix("u") + ":import:test"
	if err := db.stage(ctx, S, snap, mbs, nil); err != nil {
		t.Fatal(err)
	}
	keys, err := db.Client().Keys(ctx, S+"*").Result()
	if err != nil || len(keys) != 6 {
		t.Fatalf("staged keys = %q, %v; want 6", keys, err)
	}
	for _, k := range keys {
		if ttl, err := db.Client().PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > stagingTTL {
			t.Errorf("staged key %s: TTL %v, %v", k, ttl, err)
		}
	}
	if got, err := db.ListMailboxes(ctx, "u"); err != nil || len(got) != 0 {
		t.Fatalf("staged mailboxes visible: %+v, %v", got, err)
	}
}
