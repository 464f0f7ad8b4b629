package worker

import (
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestEveryRecipientAccounted walks every branch of resolution and
// delivery and checks that each recipient accepted at RCPT ends in a
// mailbox, in an outbound copy or in a DSN to the sender (invariant 8),
// and that the job never needs the collector's object afterwards unless a
// mailbox holds it.
func TestEveryRecipientAccounted(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.alias("team@example.com", "bob@example.com")
	e.alias("fwd@example.com", "someone@elsewhere.example")
	e.alias("chain@example.com", "link@example.com")
	e.alias("link@example.com", "carol@example.com", "far@elsewhere.example")
	e.setQuota("dave", 10)
	if err := e.st.AddDomain(ctx, "gone.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AddUser(ctx, "x@gone.example", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AddUser(ctx, "temp@example.com", "x"); err != nil {
		t.Fatal(err)
	}
	// Accepted at RCPT, then gone before delivery.
	if err := e.st.DeleteUser(ctx, "temp@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteUser(ctx, "x@gone.example"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteDomain(ctx, "gone.example"); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		mailbox string // user (local part) whose INBOX gets a copy
		copyTo  string // outside address an outbound copy goes to
		status  string // DSN status for the recipient
	}
	cases := []struct {
		rcpt string
		want []outcome
	}{
		{"alice@example.com", []outcome{{mailbox: "alice"}}},
		{"team@example.com", []outcome{{mailbox: "bob"}}},
		{"fwd@example.com", []outcome{{copyTo: "someone@elsewhere.example"}}},
		{"chain@example.com", []outcome{{mailbox: "carol"}, {copyTo: "far@elsewhere.example"}}},
		{"temp@example.com", []outcome{{status: "5.1.1"}}},
		{"dave@example.com", []outcome{{status: "5.2.2"}}},
		{"x@gone.example", []outcome{{status: "5.1.2"}}},
	}
	w := e.srsWorker()
	for _, c := range cases {
		t.Run(c.rcpt, func(t *testing.T) {
			before := map[string]int{}
			for _, u := range []string{"alice", "bob", "carol", "dave"} {
				before[u] = len(e.inbox(u))
			}
			j := e.job(sample, c.rcpt)
			j.Attempts = store.MaxAttempts // over quota: the last attempt bounces
			if err := w.deliver(ctx, j); err != nil {
				t.Fatal(err)
			}
			var got []outcome
			for _, u := range []string{"alice", "bob", "carol", "dave"} {
				for range len(e.inbox(u)) - before[u] {
					got = append(got, outcome{mailbox: u})
				}
			}
			for _, oj := range e.claimAll(store.QueueOutbound) {
				if oj.Auth == "MAILER-DAEMON@test" {
					st := e.dsnStatus(oj.BlobKey)
					if !strings.Contains(st, "Final-Recipient: rfc822; "+c.rcpt+"\r\n") || oj.To[0] != j.From {
						t.Errorf("DSN does not name %s to %s:\n%s", c.rcpt, j.From, st)
					}
					i := strings.Index(st, "Status: ")
					got = append(got, outcome{status: st[i+8 : i+13]})
					continue
				}
				for _, to := range oj.To {
					got = append(got, outcome{copyTo: to})
				}
			}
			slices.SortFunc(got, func(a, b outcome) int {
				return strings.Compare(a.mailbox+a.copyTo+a.status, b.mailbox+b.copyTo+b.status)
			})
			if !slices.Equal(got, c.want) {
				t.Errorf("outcomes %+v, want %+v", got, c.want)
			}
		})
	}
	if n := e.counted(resultRefused); n != 0 {
		t.Errorf("%d recipients refused without a DSN", n)
	}
}
