package worker

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// rules30 is a 30-rule script in the style filter editors write; no rule
// matches sample, so every test runs.
func rules30() string {
	var b strings.Builder
	b.WriteString(`require ["fileinto","imap4flags","envelope"];` + "\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "if header :contains \"subject\" \"topic%d\" { fileinto \"Topic%d\"; stop; }\n", i, i)
		fmt.Fprintf(&b, "if address :domain :is \"from\" \"sender%d.example\" { addflag \"$Label%d\"; }\n", i, i)
		fmt.Fprintf(&b, "if anyof (header :matches \"list-id\" \"*<list%d.*\", envelope :localpart \"to\" \"x%d\") { fileinto \"List%d\"; }\n", i, i, i)
	}
	return b.String()
}

// BenchmarkDeliverSieve measures one local delivery (sqlite index,
// blob/fs store) without a script and with a 30-rule script.
func BenchmarkDeliverSieve(b *testing.B) {
	for _, c := range []struct{ name, src string }{{"none", ""}, {"rules30", rules30()}} {
		b.Run(c.name, func(b *testing.B) {
			env := testenv.Embedded(b)
			st, blobs, ctx := env.Store, env.Blobs, b.Context()
			u := env.User("alice@example.com")
			scripts := &sievestore.Scripts{Blobs: blobs, Store: st}
			if c.src != "" {
				if err := scripts.Put(ctx, u.ID, "main", c.src); err != nil {
					b.Fatal(err)
				}
				if err := scripts.SetActive(ctx, u.ID, "main"); err != nil {
					b.Fatal(err)
				}
			}
			w := New(Config{Store: st, Blobs: blobs, Hostname: "test", Sieve: scripts,
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			for b.Loop() {
				b.StopTimer()
				id := ulid.Make().String()
				if _, err := blobs.Put(ctx, blob.MessageKey(id), strings.NewReader(sample), nil); err != nil {
					b.Fatal(err)
				}
				j := store.Job{ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
					From: "sender@example.net", To: []string{"alice@example.com"}, ReceivedAt: time.Now()}
				b.StartTimer()
				if err := w.deliver(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
