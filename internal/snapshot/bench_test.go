package snapshot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// benchUser is a user of n delivered messages in one mailbox, each with
// the summary of a small multipart message and its idempotency key, as the
// delivery worker stores them.
func benchUser(b *testing.B, n int) *store.UserSnapshot {
	b.Helper()
	raw := "From: Alice <alice@example.org>\r\nTo: bob@example.com, Carol <carol@example.net>\r\n" +
		"Subject: quarterly figures\r\nDate: Tue, 4 Jun 2024 11:59:58 +0200\r\nMessage-ID: <b@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n" +
		"--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("Some text in a line.\r\n", 20) +
		"--x\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--x--\r\n"
	sum, err := message.Parse(strings.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	enc := sum.Marshal()
	mb := store.MailboxSnapshot{Mailbox: store.Mailbox{ID: "1", Name: "INBOX", UIDValidity: 1, UIDNext: uint32(n + 1)}}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		mb.Messages = append(mb.Messages, store.Message{UID: uint32(i + 1), ModSeq: uint64(i + 1),
			NewMessage: store.NewMessage{BlobKey: fmt.Sprintf("msg/2026/01/01/01KB%022d", i), Size: int64(len(raw)),
				InternalDate: at.Add(time.Duration(i) * time.Second), Flags: []string{`\Seen`}, Summary: enc}})
	}
	idem := make(map[string]store.IdemRef, n)
	for i := range n {
		idem[fmt.Sprintf("01KB%022d/u1", i)] = store.IdemRef{MailboxID: "1", UID: uint32(i + 1)}
	}
	return &store.UserSnapshot{Version: store.SnapshotVersion, UserID: "u1", ChangeSeq: uint64(n),
		Mailboxes: []store.MailboxSnapshot{mb}, IdemKeys: idem}
}

// BenchmarkEncodeUser: the CPU a snapshot pass spends on one user of
// 3,000 messages, beyond reading the index.
func BenchmarkEncodeUser(b *testing.B) {
	snap := benchUser(b, 3000)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := encode(snap)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}

// BenchmarkEncodeUserJSON: the JSON alone, to see what compression adds.
func BenchmarkEncodeUserJSON(b *testing.B) {
	snap := benchUser(b, 3000)
	var size int
	for b.Loop() {
		out, err := json.Marshal(snap)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}
