package edge

import (
	"strings"
	"testing"
)

// BenchmarkTransaction10KiB measures one MAIL, RCPT, DATA of a 10 KiB
// message on an open connection: directory lookup, blob Put (with fsync)
// and Enqueue on SQLite.
func BenchmarkTransaction10KiB(b *testing.B) {
	e := newEnv(b, nil)
	c := e.dial(MX, false)
	line := strings.Repeat("x", 78) + "\r\n"
	msg := testMessage + strings.Repeat(line, (10<<10-len(testMessage))/len(line))
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := send(c, "carol@remote.test", []string{alice}, msg); err != nil {
			b.Fatal(err)
		}
	}
}
