package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/store"
)

// forwardCrashMessages is the size of the batch of TestForwardWorkerCrash.
const forwardCrashMessages = 60

// TestForwardWorkerCrash SIGKILLs the worker while it delivers a batch of
// messages to an alias with a local and an outside target, starts a new
// one, and checks that each message was forwarded exactly once: one
// forward object and outbound job per message, every message at the sink
// or still held by the dead worker's lease, and every local copy made once.
func TestForwardWorkerCrash(t *testing.T) {
	d := authchecktest.Start(t)
	rm := startOutboundRemote(t)
	dataDir := t.TempDir()
	mustAdmin(t, dataDir, "", "domain", "add", "crash.example")
	mustAdmin(t, dataDir, "pw\n", "user", "add", "keep@crash.example", "--password-stdin")
	mustAdmin(t, dataDir, "", "alias", "add", "fw@crash.example", "keep@crash.example", "out@remote.example")
	front := startServer(t, dataDir, append(append([]string{"run", "--roles", "edge,gateway"}, listenerFlags...), "--http-addr", "")...)
	workerArgs := []string{"worker", "--worker-lease", "2s", "--worker-concurrency", "4", "--http-addr", "",
		"--dns-resolver", d.Addr, "--transport", "remote.example=127.0.0.1:" + rm.port}
	worker := startServer(t, dataDir, workerArgs...)

	st, blobs := openStorage(t, dataDir)
	keep, err := st.UserByAddress(context.Background(), "keep@crash.example")
	if err != nil {
		t.Fatal(err)
	}
	delivered := func() int {
		if err := st.EnsureUser(context.Background(), keep.ID); err != nil {
			t.Fatal(err)
		}
		mb, err := st.Mailbox(context.Background(), keep.ID, store.Inbox)
		if err != nil {
			t.Fatal(err)
		}
		return int(mb.Messages)
	}

	sendDone := make(chan error, 1)
	go func() {
		c, err := smtp.DialStartTLS(front.addr("smtp"), clientTLS())
		if err != nil {
			sendDone <- err
			return
		}
		defer c.Close()
		for i := range forwardCrashMessages {
			subject := fmt.Sprintf("fwd crash %03d", i)
			if err := send(c, "load@sender.example", []string{"fw@crash.example"}, message("load@sender.example", "fw@crash.example", subject, "x")); err != nil {
				sendDone <- fmt.Errorf("message %d: %w", i, err)
				return
			}
		}
		sendDone <- c.Quit()
	}()

	deadline := time.Now().Add(time.Minute)
	for delivered() < forwardCrashMessages/4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries after 1 minute", delivered())
		}
		time.Sleep(5 * time.Millisecond)
	}
	worker.kill(t)
	atKill := delivered()
	t.Logf("worker killed after %d of %d local deliveries, %d messages at the sink", atKill, forwardCrashMessages, len(rm.messages()))
	if atKill >= forwardCrashMessages {
		t.Fatal("the worker finished before it could be killed")
	}
	if err := <-sendDone; err != nil {
		t.Fatalf("sending the batch: %v", err)
	}
	startServer(t, dataDir, workerArgs...)

	subjects := func() map[string]int {
		n := map[string]int{}
		for _, m := range rm.messages() {
			for _, line := range strings.Split(string(m.data), "\r\n") {
				if s, ok := strings.CutPrefix(line, "Subject: "); ok {
					n[s]++
				}
			}
		}
		return n
	}
	// A forward the dead worker's outbound sender had claimed waits for
	// its lease (at least outbound.DefaultLease, 10 minutes) before it is
	// sent: those are counted as in flight rather than waited for.
	eventually(t, 3*time.Minute, "every message delivered and forwarded or in flight", func() (bool, string) {
		in, err := st.QueueStats(context.Background(), store.QueueInbound)
		if err != nil {
			return false, err.Error()
		}
		out, err := st.QueueStats(context.Background(), store.QueueOutbound)
		if err != nil {
			return false, err.Error()
		}
		n, s := delivered(), len(subjects())
		return in.Pending+in.InFlight+in.Delayed == 0 && n == forwardCrashMessages && s+out.InFlight >= forwardCrashMessages,
			fmt.Sprintf("%d delivered, %d at the sink, inbound %+v, outbound %+v", n, s, in, out)
	})
	if n := delivered(); n != forwardCrashMessages {
		t.Errorf("%d local copies, want %d", n, forwardCrashMessages)
	}

	// One forward job, hence one object, per message, however often its
	// inbound job ran. (The sink may see a copy twice if the worker died
	// between the remote's 250 and its own record of it: SMTP is
	// at-least-once; that is the outbound queue's matter, not forwarding's.)
	forwards := map[string]bool{}
	after := ""
	for {
		infos, err := blobs.List(context.Background(), "msg/", after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			info, err := blobs.Stat(context.Background(), in.Key)
			if err != nil {
				continue // collected meanwhile
			}
			j, err := store.JobFromMeta(in.Key, info.Meta)
			if err != nil || !strings.HasPrefix(j.Auth, "forward:") {
				continue
			}
			forwards[in.Key] = true
			if known, err := st.JobKnown(context.Background(), store.QueueOutbound, j.ID); err != nil || !known {
				t.Errorf("forward %s has no outbound job (%v)", j.ID, err)
			}
		}
		if len(infos) < 1000 {
			break
		}
		after = infos[len(infos)-1].Key
	}
	if len(forwards) != forwardCrashMessages {
		t.Errorf("%d forward objects for %d messages", len(forwards), forwardCrashMessages)
	}
}
