package worker

import (
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestSieveTwiceActsOnce: the same job run twice (a worker died before
// its Ack) through a script that files into two mailboxes with flags,
// keeps, redirects and replies acts once (invariant 3): one entry per
// target mailbox, one redirect job and one vacation reply.
func TestSieveTwiceActsOnce(t *testing.T) {
	e := newEnv(t)
	w := e.sieveWorker("alice", `require ["fileinto","mailbox","imap4flags","copy","vacation"];
fileinto :create :flags "\\Flagged" "Work";
fileinto :create :copy "Archive";
addflag "\\Seen";
keep;
redirect :copy "someone@elsewhere.example";
vacation :days 1 "I am away.";`)
	j := e.job(sample, "alice@example.com")
	for range 2 {
		if err := w.deliver(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	for _, box := range []string{"Work", "Archive", store.Inbox} {
		msgs := e.mailbox("alice", box)
		if len(msgs) != 1 || msgs[0].BlobKey != j.BlobKey {
			t.Errorf("%s has %d entries, want one for %s", box, len(msgs), j.BlobKey)
		}
	}
	if msgs := e.mailbox("alice", "Work"); len(msgs) == 1 && !slices.Contains(msgs[0].Flags, `\Flagged`) {
		t.Errorf("Work entry flags = %v, want \\Flagged", msgs[0].Flags)
	}
	var redirects, replies int
	for _, oj := range e.claimAll(store.QueueOutbound) {
		switch {
		case oj.Auth == VacationAuth+"alice@example.com" && oj.To[0] == "sender@example.net":
			replies++
		case oj.Auth == ForwardAuth+"alice@example.com" && oj.To[0] == "someone@elsewhere.example":
			redirects++
		default:
			t.Errorf("unexpected outbound job %+v", oj)
		}
	}
	if redirects != 1 || replies != 1 {
		t.Errorf("%d redirects and %d vacation replies after two runs, want 1 and 1", redirects, replies)
	}
}
