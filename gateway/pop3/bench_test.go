package pop3

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// BenchmarkRETR retrieves 100 messages of 10 KiB per iteration over one
// session, in plain text (as bmbench's pop3-retr does) and over TLS, and
// reports the p50 and p99 of one RETR.
func BenchmarkRETR(b *testing.B) {
	for _, tlsOn := range []bool{false, true} {
		name := "plain"
		if tlsOn {
			name = "tls"
		}
		b.Run(name, func(b *testing.B) { benchRETR(b, tlsOn) })
	}
}

func benchRETR(b *testing.B, tlsOn bool) {
	e := newEnv(b, envOptions{insecureAuth: true})
	const n, size = 100, 10 << 10
	var body strings.Builder
	body.WriteString("Subject: bench\r\n\r\n")
	for body.Len() < size-80 {
		body.WriteString(".a line of text that wants stuffing now and then, sixty-six octets\r\n")
	}
	for range n {
		e.deliver(store.Inbox, prefix1, body.String())
	}
	c := e.dial()
	if tlsOn {
		c.login()
	} else {
		c.cmd("USER "+testUser, "+OK")
		c.cmd("PASS "+testPassword, "+OK")
	}
	b.SetBytes(int64(n * (len(prefix1) + body.Len())))
	lat := make([]time.Duration, 0, n*b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := 1; i <= n; i++ {
			start := time.Now()
			c.cmd(fmt.Sprintf("RETR %d", i), "+OK")
			if got := len(c.body()); got != len(prefix1)+body.Len() {
				b.Fatalf("RETR %d: %d octets", i, got)
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	c.quit("+OK")
}
