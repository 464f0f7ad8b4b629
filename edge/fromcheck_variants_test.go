package edge

import (
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

// withHeader is a message whose header starts with fields.
func withHeader(fields string) string {
	return fields + "To: dave@elsewhere.test\r\nSubject: hi\r\n\r\nHello.\r\n"
}

// TestSubmissionOriginatorVariants sends, as alice, every way a header can
// name someone else as author, sender or resender, or name two authors so
// that the check and a reader could disagree: each is refused and nothing
// is queued.
func TestSubmissionOriginatorVariants(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	denied, badSyntax := smtp.EnhancedCode{5, 7, 1}, smtp.EnhancedCode{5, 1, 7}
	for _, tc := range []struct {
		name, header string
		ec           smtp.EnhancedCode
	}{
		{"obsolete space before colon", "From : bob@example.test\r\nFrom: alice@example.test\r\n", denied},
		{"obsolete space after", "From: alice@example.test\r\nFrom : bob@example.test\r\n", denied},
		{"obsolete space alone", "From \t: bob@example.test\r\n", denied},
		{"duplicate From, both hers", "From: alice@example.test\r\nFrom: alice+x@example.test\r\n", denied},
		{"upper case duplicate", "From: alice@example.test\r\nFROM: bob@example.test\r\n", denied},
		{"lower case, folded", "from:\r\n\tbob@example.test\r\n", denied},
		{"two addresses", "From: alice@example.test, bob@example.test\r\n", denied},
		{"two addresses, both hers", "From: alice@example.test, alice+x@example.test\r\n", denied},
		{"Sender of another", "From: alice@example.test\r\nSender: bob@example.test\r\n", denied},
		{"two Sender fields", "From: alice@example.test\r\nSender: alice@example.test\r\nSender: alice+x@example.test\r\n", denied},
		{"Resent-From of another", "Resent-From: bob@example.test\r\nFrom: alice@example.test\r\n", denied},
		{"Resent-Sender of another", "Resent-Sender: Bob <bob@example.test>\r\nFrom: alice@example.test\r\n", denied},
		{"space inside the name", "Fr om: bob@example.test\r\nFrom: alice@example.test\r\n", denied},
		{"NUL in the name", "From\x00: bob@example.test\r\nFrom: alice@example.test\r\n", denied},
		{"first line folded", " From: bob@example.test\r\nFrom: alice@example.test\r\n", denied},
		{"encoded-word local part", "From: =?utf-8?q?alice?=@example.test\r\n", denied},
		{"encoded-word address", "From: =?utf-8?q?bob=40example.test?=\r\n", badSyntax},
		{"address as display name", "From: alice@example.test <bob@example.test>\r\n", badSyntax},
		{"group", "From: friends: alice@example.test;\r\n", badSyntax},
		{"empty From", "From:\r\n", badSyntax},
	} {
		_, err := send(c, alice, []string{"dave@elsewhere.test"}, withHeader(tc.header))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else {
			wantReply(t, err, 553, tc.ec)
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.objects()); n != 0 {
		t.Errorf("%d objects left after refused messages", n)
	}
	if n := len(e.jobs(store.QueueOutbound)) + len(e.jobs(store.QueueInbound)); n != 0 {
		t.Errorf("%d jobs queued for refused messages", n)
	}
}

// TestSubmissionOriginatorAllowed keeps what a mail client sends for its
// own user working.
func TestSubmissionOriginatorAllowed(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(Submission, true)
	login(t, c, alice)
	for _, header := range []string{
		"From: alice@example.test\r\n",
		"From : Alice <alice@example.test>\r\n", // RFC 5322 section 4.5 obsolete syntax
		"FROM:\talice@example.test\r\n",
		"From: =?utf-8?q?Alice_=C3=A9?= <alice@example.test>\r\n",
		"From: \"bob@example.test\" <alice@example.test>\r\n", // her address, whatever the name says
		"From: team@example.test\r\nSender: alice@example.test\r\n",
		"Resent-From: alice@example.test\r\nResent-Sender: alice+x@example.test\r\nFrom: alice@example.test\r\n",
		"Resent-From: alice@example.test\r\nResent-From: alice+old@example.test\r\nFrom: alice@example.test\r\n",
		"Subject: before\r\nFrom: \"Alice A.\"\r\n <alice+x@example.test>\r\n",
	} {
		if _, err := send(c, alice, []string{"dave@elsewhere.test"}, withHeader(header)); err != nil {
			t.Errorf("%q: %v", header, err)
			if err := c.Reset(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
