package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// childEnv carries "path|userID|mailboxID" to the child process of
// TestMultiProcess.
const childEnv = "BUCKETMAIL_SQLITE_CHILD"

const perProcess = 30

// workload inserts messages, enqueues jobs and claims+acks jobs; it returns
// the IDs of the jobs it acked.
func workload(ctx context.Context, db *DB, userID, mailboxID, who string) ([]string, error) {
	for i := range perProcess {
		key := fmt.Sprintf("%s-%d", who, i)
		if _, _, err := db.InsertMessage(ctx, userID, mailboxID, key, store.NewMessage{BlobKey: "msg/" + key, Size: 1}); err != nil {
			return nil, err
		}
		if err := db.Enqueue(ctx, store.Job{ID: key, Queue: store.QueueInbound}); err != nil {
			return nil, err
		}
	}
	var acked []string
	for {
		jobs, err := db.Claim(ctx, store.QueueInbound, who, 4, 300*time.Millisecond, time.Minute)
		if err != nil {
			return nil, err
		}
		if len(jobs) == 0 {
			return acked, nil
		}
		for _, j := range jobs {
			if err := db.Ack(ctx, j); err != nil {
				return nil, err
			}
			acked = append(acked, j.ID)
		}
	}
}

// TestMultiProcessChild is the child half of TestMultiProcess; run alone it
// does nothing.
func TestMultiProcessChild(t *testing.T) {
	arg := os.Getenv(childEnv)
	if arg == "" {
		return
	}
	parts := strings.Split(arg, "|")
	db := openFile(t, parts[0])
	acked, err := workload(context.Background(), db, parts[1], parts[2], "child")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ACKED " + strings.Join(acked, " "))
}

// TestMultiProcess runs the same workload in this process and in a child
// process on one file: no errors (SQLITE_BUSY), no UID collision, every job
// acked exactly once, and the child's changes wake a Watch here.
func TestMultiProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bucketmail.db")
	db := openFile(t, path)
	if err := db.EnsureUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, "u", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	watch := db.Watch(ctx, "u")

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMultiProcessChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path+"|u|"+inbox.ID)
	var out []byte
	var childErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, childErr = cmd.CombinedOutput()
	}()
	mine, err := workload(ctx, db, "u", inbox.ID, "parent")
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if childErr != nil {
		t.Fatalf("child: %v\n%s", childErr, out)
	}
	var theirs []string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "ACKED "); ok {
			theirs = strings.Fields(rest)
		}
	}
	seen := map[string]int{}
	for _, id := range append(mine, theirs...) {
		seen[id]++
	}
	if len(seen) != 2*perProcess {
		t.Fatalf("%d distinct jobs acked (parent %d, child %d), want %d\n%s", len(seen), len(mine), len(theirs), 2*perProcess, out)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %s acked %d times", id, n)
		}
	}
	uids, err := db.UIDs(ctx, "u", inbox.ID)
	if err != nil || len(uids) != 2*perProcess || uids[len(uids)-1] != 2*perProcess {
		t.Fatalf("UIDs = %v, %v", uids, err)
	}
	select {
	case <-watch:
	case <-time.After(2 * time.Second):
		t.Fatal("no watch signal")
	}
}
