package imapgw

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// BenchmarkFetch20MB fetches a 20 MB message whole (one BODY.PEEK[]) and
// in 64 KiB pieces as Thunderbird downloads it (BODY.PEEK[]<o.65536> until
// the end), in both deployments. objB/op is the object bytes the blob
// driver read per download. docs/benchmarks.md has the figures.
func BenchmarkFetch20MB(b *testing.B) {
	for _, d := range []struct {
		name string
		env  func(testing.TB, ...envOption) *testEnv
	}{{"embedded", newEnv}, {"cloud", newCloudEnv}} {
		b.Run(d.name, func(b *testing.B) {
			env := d.env(b)
			raw, _, _ := bigMessage(10<<20, 7<<20+512<<10)
			uid := imap.UID(env.deliver(b, "alice@example.org", "INBOX", "", raw))
			c := env.dial(b, "alice@example.org", nil)
			mustSelect(b, c, "INBOX", true)
			fetch := func(p *imap.SectionPartial) int {
				sec := &imap.FetchItemBodySection{Peek: true, Partial: p}
				m := fetchOne(b, c, uid, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}})
				return len(m.FindBodySection(sec))
			}
			run := func(b *testing.B, download func() int) {
				b.SetBytes(int64(len(raw)))
				start := env.objectBytesRead(b)
				for b.Loop() {
					if n := download(); n != len(raw) {
						b.Fatalf("downloaded %d bytes of %d", n, len(raw))
					}
				}
				b.ReportMetric(float64(env.objectBytesRead(b)-start)/float64(b.N), "objB/op")
			}
			b.Run("whole", func(b *testing.B) { run(b, func() int { return fetch(nil) }) })
			b.Run("chunked64k", func(b *testing.B) {
				const piece = 64 << 10
				run(b, func() int {
					n := 0
					for off := 0; off < len(raw); off += piece {
						n += fetch(&imap.SectionPartial{Offset: int64(off), Size: piece})
					}
					return n
				})
			})
		})
	}
}
