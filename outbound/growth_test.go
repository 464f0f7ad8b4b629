package outbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// growthJobs is how many outbound jobs TestNoStatePerJob sends.
const growthJobs = 1000

// growthRetention is the done retention of TestNoStatePerJob's stores.
const growthRetention = 2 * time.Second

// TestNoStatePerJob: outbound jobs, delivered or failed for good, leave no
// key, field or row behind in either driver once their done retention has
// passed (DESIGN.md invariant 9): their state lives and dies with the job.
func TestNoStatePerJob(t *testing.T) {
	testenv.Each(t, func(t *testing.T, st *testenv.Env) {
		var count func() map[string]int64
		if st.SQLite != nil {
			st.SQLite.SetDoneRetention(growthRetention)
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(st.Dir, "bucketmail.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			count = func() map[string]int64 { return sqliteCounts(t, raw) }
		} else {
			st.Redis.SetDoneRetention(growthRetention)
			count = func() map[string]int64 { return redisCounts(t, st.Redis.Client()) }
		}
		testNoStatePerJob(t, st, count)
	})
}

func testNoStatePerJob(t *testing.T, st *testenv.Env, count func() map[string]int64) {
	e := newEnvWith(t, st)
	e.remote.rcpt = func(to string, _ int) error {
		if to == "gone@remote.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	cfg := e.config()
	cfg.Concurrency = 8
	e.run(cfg)
	// One job first, so that what exists once per queue (the stream and
	// its group, the schema) is in the baseline.
	e.submit(sampleMessage("bob@remote.test"), "bob@remote.test")
	settled := func() map[string]int64 {
		waitFor(t, "the queue to be idle", e.queueIdle)
		return e.settledCounts(count)
	}
	baseline := settled()
	for i := range growthJobs {
		if i%10 == 9 {
			// Failed for good; a null sender gets no notice, which would
			// be a message in a mailbox, not queue state.
			e.submitFrom("", sampleMessage("gone@remote.test"), "gone@remote.test")
			continue
		}
		e.submit(sampleMessage("bob@remote.test"), "bob@remote.test")
	}
	deadline := time.Now().Add(3 * time.Minute)
	for len(e.remote.messages()) < growthJobs*9/10+1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(e.remote.messages()); n != growthJobs*9/10+1 {
		t.Fatalf("%d messages reached the remote, want %d", n, growthJobs*9/10+1)
	}
	after := settled()
	if !maps.Equal(baseline, after) {
		t.Errorf("store after %d jobs and the retention differs from the baseline:\nbefore %v\nafter  %v",
			growthJobs, baseline, after)
	}
}

// settledCounts waits out the done retention and returns count once two
// readings a retention apart agree: expiry and pruning are lazy (Redis
// expires keys in the background; a SQLite Claim prunes at most once per
// retention, and the loops claim once a second).
func (e *env) settledCounts(count func() map[string]int64) map[string]int64 {
	time.Sleep(3*growthRetention + time.Second)
	e.collect()
	prev := count()
	for range 10 {
		time.Sleep(growthRetention + 500*time.Millisecond)
		e.collect()
		cur := count()
		if maps.Equal(prev, cur) {
			return cur
		}
		prev = cur
	}
	return prev
}

// collect does the object collector's work: deletes the objects whose
// deletion is scheduled (not queue state: the collector's schedule).
func (e *env) collect() {
	ctx := e.t.Context()
	keys, err := e.st.DueBlobDeletes(ctx, time.Now().Add(time.Hour), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		if err := e.blobs.Delete(ctx, k); err != nil {
			e.t.Fatal(err)
		}
		if err := e.st.ForgetBlobDelete(ctx, k); err != nil {
			e.t.Fatal(err)
		}
	}
}

// submitFrom is submit with the envelope sender from.
func (e *env) submitFrom(from, raw string, to ...string) {
	e.t.Helper()
	j := e.submitJob(raw, to...)
	j.From = from
	if err := e.st.Enqueue(e.t.Context(), j); err != nil {
		e.t.Fatal(err)
	}
}

// sqliteCounts counts the rows of every table.
func sqliteCounts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM %q", n)).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// redisCounts maps every key (SCAN) to its length: fields of a hash,
// members of a set or sorted set, entries of a stream; 1 for a string.
// DBSIZE is the entry "dbsize".
func redisCounts(t *testing.T, rdb goredis.UniversalClient) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		switch typ {
		case "hash":
			n, err = rdb.HLen(ctx, k).Result()
		case "zset":
			n, err = rdb.ZCard(ctx, k).Result()
		case "set":
			n, err = rdb.SCard(ctx, k).Result()
		case "list":
			n, err = rdb.LLen(ctx, k).Result()
		case "stream":
			n, err = rdb.XLen(ctx, k).Result()
		case "none":
			continue // expired between SCAN and TYPE
		default:
			n = 1
		}
		if err != nil && !errors.Is(err, goredis.Nil) {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	size, err := rdb.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	out["dbsize"] = size
	return out
}

// TestLegacyCheckpointsMigrated: the ledger checkpoints of an older
// version are read once by their job (a recipient delivered then is not
// sent again) and deleted; those of finished jobs go at start.
func TestLegacyCheckpointsMigrated(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	j := e.submitJob(sampleMessage("bob@remote.test, dave@remote.test"), "bob@remote.test", "dave@remote.test")
	old := `{"rcpts":{"bob@remote.test":{"Rcpt":"bob@remote.test","Status":1,"at":"2026-01-01T00:00:00Z"}},"first":"2026-01-01T00:00:00Z"}`
	if err := e.st.SetCheckpoint(ctx, legacyCheckpoint(j.ID), old); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetCheckpoint(ctx, legacyCheckpoint("01JFINISHEDLONGAGO00000000"), `{"finished":true}`); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Enqueue(ctx, j); err != nil {
		t.Fatal(err)
	}
	e.run(e.config())
	waitFor(t, "the job to be done", func() bool { return e.queueIdle() && len(e.remote.messages()) == 1 })
	if msgs := e.remote.messages(); len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "dave@remote.test" {
		t.Fatalf("remote got %+v, want dave only", msgs)
	}
	names, err := e.st.CheckpointNames(ctx, legacyPrefix)
	if err != nil || len(names) != 0 {
		t.Fatalf("checkpoints left: %q, %v", names, err)
	}
}
