package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store/storetest"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

func benchInbox(b testing.TB) (*DB, string) {
	db := openURL(b, servers.Redis(b).URL(), true)
	return db, storetest.BenchInbox(b, db)
}

// fillInbox delivers n messages to the benchmark user's INBOX.
func fillInbox(b *testing.B, db *DB, id string, n int) {
	for i := 1; i <= n; i++ {
		if _, _, err := db.InsertMessage(context.Background(), "u", id, "", storetest.BenchMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInsertMessage(b *testing.B) {
	db, id := benchInbox(b)
	storetest.BenchInsertMessage(b, db, id)
}

func BenchmarkMessages10k(b *testing.B) {
	db, id := benchInbox(b)
	fillInbox(b, db, id, 10000)
	storetest.BenchMessages(b, db, id, 10000)
}

func BenchmarkUIDs10k(b *testing.B) {
	db, id := benchInbox(b)
	ctx := context.Background()
	const n = 10000
	fillInbox(b, db, id, n)
	for b.Loop() {
		if uids, err := db.UIDs(ctx, "u", id); err != nil || len(uids) != n {
			b.Fatalf("UIDs = %d, %v", len(uids), err)
		}
	}
}

// commandStats returns the calls of each command since the last CONFIG
// RESETSTAT (INFO commandstats; commands run by scripts are counted too).
func commandStats(t testing.TB, db *DB) map[string]int {
	info, err := db.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(calls)
	}
	return out
}

// TestInsertCommandCount counts the Redis commands one InsertMessage costs:
// those the client sends (round trips) and all those the server runs,
// inside the script included. It fails if a change adds round trips.
func TestInsertCommandCount(t *testing.T) {
	db, id := benchInbox(t)
	ctx := context.Background()
	// Warm up: the first call loads the script (EVALSHA, NOSCRIPT, EVAL).
	if _, _, err := db.InsertMessage(ctx, "u", id, "k0", storetest.BenchMessage(0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Client().ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := 1; i <= n; i++ {
		if _, _, err := db.InsertMessage(ctx, "u", id, fmt.Sprint("k", i), storetest.BenchMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	stats := commandStats(t, db)
	delete(stats, "config|resetstat")
	delete(stats, "info")
	client := stats["evalsha"] + stats["eval"] + stats["incrby"]
	total := 0
	var parts []string
	for name, calls := range stats {
		total += calls
		parts = append(parts, fmt.Sprintf("%s=%.2f", name, float64(calls)/n))
	}
	t.Logf("per InsertMessage: %.2f commands sent by the client, %.2f run by the server: %s",
		float64(client)/n, float64(total)/n, strings.Join(parts, " "))
	if client != 2*n {
		t.Fatalf("client commands per insert = %.2f, want 2 (INCRBY + EVALSHA)", float64(client)/n)
	}
}
