package message

import (
	"bytes"
	"strings"
	"testing"
)

// TestExtractTextBytes: the text of a message in memory is the text of
// the same message read from a stream, whatever the limits: the worker
// indexes the one and a search that reads the object looks at the other.
func TestExtractTextBytes(t *testing.T) {
	msgs := samples(t)
	msgs["alternative"] = altMessage()
	msgs["attachment"] = benchMessage(300 << 10)
	msgs["folding"] = []byte("Subject: ÄÖÜ Grüße İSTANBUL\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Das Wetter in MÜNCHEN ist schön. ΣΊΣΥΦΟΣ ABC\r\n")
	msgs["not utf-8"] = []byte("Content-Type: text/plain\r\n\r\n" + strings.Repeat("AbcÄ\x00x\xff ", 40000))
	msgs["long utf-8"] = []byte("Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("ÄBC ", 40000))
	msgs["huge broken header"] = []byte(strings.Repeat("X", 70000) + "\r\nbody\r\n")
	msgs["broken header"] = []byte("bad header line\r\n: x\r\n\r\nBODY TEXT\r\n")
	for _, lim := range []TextLimits{IndexLimits, NoLimits, {Head: 50, Body: 100}, {Head: 7, Body: 13}} {
		for name, raw := range msgs {
			want, err := ExtractText(bytes.NewReader(raw), lim)
			if err != nil {
				t.Fatal(err)
			}
			if got := ExtractTextBytes(raw, lim); got != want {
				t.Errorf("%s, limits %v: ExtractTextBytes = %.200q %v, ExtractText = %.200q %v", name, lim, got.Head+got.Body, got.Truncated, want.Head+want.Body, want.Truncated)
			}
		}
	}
}
