package imapgw

import (
	"bytes"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

var headerSections = []*imap.FetchItemBodySection{
	{Specifier: imap.PartSpecifierHeader},
	{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"DATE", "FROM", "TO", "SUBJECT", "MESSAGE-ID"}},
	{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"x-missing"}},
	{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"Received", "dkim-signature"}},
	{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"subject"}, Partial: &imap.SectionPartial{Offset: 3, Size: 10}},
}

func headerSamples() []string {
	return []string{
		"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\n",
		"Return-Path: <a@example.org>\r\nDelivered-To: b@example.org\r\nReceived: from x\r\n\tby y; Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
			"DKIM-Signature: v=1; a=rsa-sha256;\r\n b=abc\r\n def\r\nSubject: =?utf-8?q?r=C3=A9sum=C3=A9?=\r\n  folded\r\nDate: Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
			"Message-ID: <x@y>\r\nsubject: twice\r\nX-Empty:\r\nX-UTF8: ünïcödé\r\n\r\n",
		"\r\n",
		"Subject : spaced\r\nFrom: a\r\n\r\n", // trailing space in the name
		"Subject: bare\nFrom: a\r\n\r\n",      // bare LF
		" leading: continuation\r\nFrom: a\r\n\r\n",
		"NoColon\r\nFrom: a\r\n\r\n",
		"From: a\r\n",                       // no blank line
		"From: a\r\nSubject: x\r\n\r\nbody", // body after the header
		"Fr\x00m: a\r\n\r\n",
		"From: a\rb\r\n\r\n",
		": empty name\r\nFrom: a\r\n\r\n",
	}
}

// TestHeaderFieldsSameAsImapserver: where headerFields answers, it answers
// byte for byte what imapserver.ExtractBodySection does.
func TestHeaderFieldsSameAsImapserver(t *testing.T) {
	answered := 0
	for _, h := range headerSamples() {
		for _, sec := range headerSections {
			got, ok := headerFields([]byte(h), sec)
			if !ok {
				continue
			}
			answered++
			want := imapserver.ExtractBodySection(bytes.NewReader([]byte(h)), sec)
			if !bytes.Equal(got, want) {
				t.Errorf("header %q, section %+v:\n got %q\nwant %q", h, sec, got, want)
			}
		}
	}
	if answered < 2*len(headerSections) {
		t.Fatalf("the fast path answered only %d times", answered)
	}
}

func FuzzHeaderFields(f *testing.F) {
	for _, h := range headerSamples() {
		f.Add(h, 1)
	}
	f.Fuzz(func(t *testing.T, h string, which int) {
		sec := headerSections[uint(which)%uint(len(headerSections))]
		got, ok := headerFields([]byte(h), sec)
		if !ok {
			return
		}
		if want := imapserver.ExtractBodySection(bytes.NewReader([]byte(h)), sec); !bytes.Equal(got, want) {
			t.Fatalf("header %q, section %+v:\n got %q\nwant %q", h, sec, got, want)
		}
	})
}
