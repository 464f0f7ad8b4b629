package edge

import (
	"strings"
	"testing"
	"time"
)

func TestReceivedHeader(t *testing.T) {
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := receivedHeader(traceInfo{
		helo: "bad helo\r\n(x)", clientIP: "2001:db8::1", hostname: "mx.example.test",
		id: "01ID", rcpts: []string{"a@example.test", "b@example.test"}, date: date,
	})
	want := "Received: from bad?helo???x? ([IPv6:2001:db8::1])\r\n" +
		"\tby mx.example.test with ESMTP\r\n" +
		"\tid 01ID; Fri, 02 Jan 2026 03:04:05 +0000\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	got = receivedHeader(traceInfo{helo: "", clientIP: "::ffff:192.0.2.7", hostname: "h", auth: true,
		id: "X", rcpts: []string{"<evil>@x"}, date: date})
	if !strings.HasPrefix(got, "Received: from unknown ([192.0.2.7])\r\n\tby h with ESMTPA\r\n\tid X; ") {
		t.Errorf("got %q", got)
	}
}
