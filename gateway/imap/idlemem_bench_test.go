package imapgw

import (
	"bufio"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleConnMemory reports the Go heap and stack each logged-in
// IMAP connection that then waits keeps in the gateway (and in the
// client ends of this process, a TLS conn and a reader each, which are
// counted too: an upper bound). The figure of the whole process, RSS per
// idle connection, is cmd/bmbench's.
func BenchmarkIdleConnMemory(b *testing.B) {
	const conns = 200
	env := newEnv(b)
	inUse := func() uint64 {
		var ms runtime.MemStats
		for range 3 {
			runtime.GC()
		}
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	for range b.N {
		before := inUse()
		for range conns {
			conn, err := tlsDial(env.tlsAddr)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReaderSize(conn, 512)
			if _, err := r.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
			if _, err := conn.Write([]byte(`a LOGIN alice@example.org "` + testPassword + "\"\r\n")); err != nil {
				b.Fatal(err)
			}
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(line, "a ") {
					break
				}
			}
		}
		after := inUse()
		b.ReportMetric(float64(after-before)/conns/1024, "KiB/conn")
	}
}
