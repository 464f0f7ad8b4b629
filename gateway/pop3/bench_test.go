package pop3

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
)

// BenchmarkRETR retrieves 100 messages of 10 KiB per iteration over one
// TLS session.
func BenchmarkRETR(b *testing.B) {
	e := newEnv(b, envOptions{})
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
	c.login()
	b.SetBytes(int64(n * (len(prefix1) + body.Len())))
	b.ResetTimer()
	for range b.N {
		for i := 1; i <= n; i++ {
			c.cmd(fmt.Sprintf("RETR %d", i), "+OK")
			if got := len(c.body()); got != len(prefix1)+body.Len() {
				b.Fatalf("RETR %d: %d octets", i, got)
			}
		}
	}
	b.StopTimer()
	c.quit("+OK")
}
