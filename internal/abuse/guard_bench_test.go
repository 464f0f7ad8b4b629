package abuse

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkLineRoundTrip measures one command line and its answer over
// loopback TCP, with and without the line bound.
func BenchmarkLineRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  ConnConfig
	}{
		{"unbounded", ConnConfig{}},
		{"bounded", ConnConfig{LineTimeout: 30 * time.Second}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ln := tc.cfg.Listener(raw, nil, "")
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(time.Hour))
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						return
					}
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			line := []byte("a NOOP command line of about sixty bytes, as clients send\r\n")
			buf := make([]byte, len(line))
			b.SetBytes(int64(len(line)))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(line); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
