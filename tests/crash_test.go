package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Size of the crash-safety batch.
const (
	crashUsers    = 4
	crashMessages = 200
)

// TestWorkerCrash runs the edge and gateway in one process and the worker in
// another, SIGKILLs the worker in the middle of a batch, starts a new one,
// and checks that every accepted message is in its mailbox exactly once
// (invariants 1 and 3).
func TestWorkerCrash(t *testing.T) {
	dataDir := t.TempDir()
	mustAdmin(t, dataDir, "", "domain", "add", "crash.example")
	users := make([]string, crashUsers)
	for i := range users {
		users[i] = fmt.Sprintf("user%d@crash.example", i)
		mustAdmin(t, dataDir, "pw-"+users[i]+"\n", "user", "add", users[i], "--password-stdin")
	}
	front := startServer(t, dataDir, append(append([]string{"run", "--roles", "edge,gateway"}, listenerFlags...), "--http-addr", "")...)
	workerArgs := []string{"worker", "--worker-lease", "2s", "--worker-concurrency", "4", "--http-addr", ""}
	worker := startServer(t, dataDir, workerArgs...)

	st, _ := openStorage(t, dataDir)
	delivered := func() int {
		n := 0
		for _, u := range users {
			uid, err := st.UserByAddress(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			mb, err := st.Mailbox(context.Background(), uid.ID, store.Inbox)
			if err != nil {
				t.Fatal(err)
			}
			n += int(mb.Messages)
		}
		return n
	}

	// Message i goes to user i%4; every fifth also to the next user.
	want := make(map[string][]string) // user → subjects
	var rcpts [][]string
	total := 0
	for i := range crashMessages {
		to := []string{users[i%crashUsers]}
		if i%5 == 0 {
			to = append(to, users[(i+1)%crashUsers])
		}
		rcpts = append(rcpts, to)
		for _, u := range to {
			want[u] = append(want[u], fmt.Sprintf("crash %03d", i))
		}
		total += len(to)
	}

	// Send the batch in the background while the worker delivers.
	var sent atomic.Int32
	sendDone := make(chan error, 1)
	smtpAddr := front.addr("smtp")
	go func() {
		c, err := smtp.DialStartTLS(smtpAddr, clientTLS())
		if err != nil {
			sendDone <- err
			return
		}
		defer c.Close()
		for i, to := range rcpts {
			subject := fmt.Sprintf("crash %03d", i)
			if err := send(c, "load@remote.example", to, message("load@remote.example", to[0], subject, "body of "+subject)); err != nil {
				sendDone <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			sent.Add(1)
		}
		sendDone <- c.Quit()
	}()

	// Kill the worker once some, but not all, deliveries are made.
	killAt := total / 5
	deadline := time.Now().Add(time.Minute)
	for delivered() < killAt {
		select {
		case <-front.done:
			t.Fatalf("edge and gateway exited: %v", front.err)
		case <-worker.done:
			t.Fatalf("the worker exited before it was killed: %v", worker.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries after 1 minute", delivered(), total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	worker.kill(t)
	atKill := delivered()
	qs, err := st.QueueStats(context.Background(), store.QueueInbound)
	if err != nil {
		t.Fatal(err)
	}
	// Jobs the dead worker had claimed stay in flight until their lease
	// ends; the next worker must take them over.
	t.Logf("worker killed after %d of %d deliveries, %d of %d messages sent, queue %+v",
		atKill, total, sent.Load(), crashMessages, qs)
	if atKill >= total {
		t.Fatalf("the worker finished all %d deliveries before it could be killed", total)
	}

	if err := <-sendDone; err != nil {
		t.Fatalf("sending the batch: %v", err)
	}
	startServer(t, dataDir, workerArgs...)

	eventually(t, 3*time.Minute, "queue drained and every delivery made", func() (bool, string) {
		s, err := st.QueueStats(context.Background(), store.QueueInbound)
		if err != nil {
			return false, err.Error()
		}
		n := delivered()
		return s.Pending+s.InFlight+s.Delayed == 0 && n >= total, fmt.Sprintf("%+v, %d/%d delivered", s, n, total)
	})
	if s, _ := st.QueueStats(context.Background(), store.QueueInbound); s.Dead != 0 {
		t.Errorf("%d jobs dead-lettered", s.Dead)
	}

	// Every accepted message is in its mailbox exactly once, read over IMAP.
	for _, u := range users {
		c := dialIMAP(t, front.addr("imap"), u, "pw-"+u, nil)
		got := subjects(listMailbox(t, c, "INBOX"))
		slices.Sort(got)
		exp := slices.Clone(want[u])
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%s holds %d messages, want %d; duplicates %v, missing %v",
				u, len(got), len(exp), duplicates(got), missing(exp, got))
		}
		c.Logout()
	}
}

func duplicates(s []string) []string {
	var d []string
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			d = append(d, s[i])
		}
	}
	return d
}

func missing(want, got []string) string {
	var m []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			m = append(m, w)
		}
	}
	return strings.Join(m, ", ")
}
