package edge

import (
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestHeaderCaptureChunked(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want []string
	}{
		{"From: a@x.test\r\nTo: b@y.test\r\n\r\nFrom: body@x.test\r\n", []string{"a@x.test"}},
		{"From: a@x.test\nSubject: lf only\n\nFrom: body@x.test\n", []string{"a@x.test"}},
		{"From: A <a@x.test>, b@x.test\r\nFrom: c@x.test\r\n\r\n", []string{"a@x.test", "b@x.test", "c@x.test"}},
		{"Subject: s\r\nFrom:\r\n a@x.test\r\n", []string{"a@x.test"}}, // no body at all
	} {
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(tc.msg),
			"onebyte": iotest.OneByteReader(strings.NewReader(tc.msg)),
		} {
			h := &headerCapture{r: r}
			got, err := io.ReadAll(h)
			if err != nil || string(got) != tc.msg {
				t.Fatalf("%s: passthrough = %q, %v", name, got, err)
			}
			fields, rep := h.originators()
			var addrs []string
			for _, f := range fields {
				for _, a := range f.Addresses {
					addrs = append(addrs, a.Address())
				}
			}
			if rep != nil || !slices.Equal(addrs, tc.want) {
				t.Errorf("%s %q: From = %v, %v; want %v", name, tc.msg, addrs, rep, tc.want)
			}
		}
	}
}

func TestHeaderCaptureNoHeader(t *testing.T) {
	h := &headerCapture{r: strings.NewReader("\r\nFrom: a@x.test\r\n")}
	if _, err := io.ReadAll(h); err != nil {
		t.Fatal(err)
	}
	fields, rep := h.originators()
	if _, rep2 := submittedSenders(fields); rep != nil || rep2 != errNoFrom {
		t.Errorf("reply = %v, want errNoFrom", rep)
	}
}
