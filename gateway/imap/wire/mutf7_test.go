package wire

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func TestDecodeMailbox(t *testing.T) {
	tests := []struct {
		in   string
		utf8 bool
		want string
		err  error
	}{
		{"inbox", false, "INBOX", nil},
		{"InBoX", true, "INBOX", nil},
		{"Entw&APw-rfe", false, "Entwürfe", nil},
		{"&-", false, "&", nil},
		{"a&-b", false, "a&b", nil},
		{"&ZeVnLIqe-", false, "日本語", nil},
		{"&2D3eAQ-", false, "\U0001F601", nil}, // a surrogate pair
		{"~peter/mail/&U,BTFw-/&ZeVnLIqe-", false, "~peter/mail/台北/日本語", nil},
		{"Entw&APw-rfe", true, "Entw&APw-rfe", nil}, // & is plain with UTF8=ACCEPT
		{"Entwürfe", true, "Entwürfe", nil},
		{"Entwürfe", false, "", ErrMailbox8Bit},
		{"\xff", true, "", ErrMailboxUTF8},
		{"a\x00b", true, "", ErrMailboxCtrl},
		{"a\rb", false, "", ErrMailboxCtrl},
		{"&APw", false, "", ErrMailboxUTF7},       // unterminated
		{"&AGE-", false, "", ErrMailboxUTF7},      // encodes "a", which must be sent as itself
		{"&APw-&APw-", false, "", ErrMailboxUTF7}, // two shifts that should be one
		{"&APx-", false, "", ErrMailboxUTF7},      // non-zero padding bits
		{"&AP-", false, "", ErrMailboxUTF7},       // not a whole UTF-16 unit
		{"&2D0-", false, "", ErrMailboxUTF7},      // lone high surrogate
		{"&3gE-", false, "", ErrMailboxUTF7},      // lone low surrogate
		{"&A/w-", false, "", ErrMailboxUTF7},      // "/" is not in modified base64
		{"&AAE-", false, "", ErrMailboxCtrl},
		{"", false, "", errMailboxEmpty},
	}
	for _, tt := range tests {
		got, err := DecodeMailbox(tt.in, tt.utf8)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("DecodeMailbox(%q, %v) = %q, %v; want %q, %v", tt.in, tt.utf8, got, err, tt.want, tt.err)
		}
	}
}

// TestMailboxRoundTrip: every name encodes to one that decodes back.
func TestMailboxRoundTrip(t *testing.T) {
	for _, name := range []string{"Entwürfe", "a&b", "日本語/台北", "\U0001F601x\U0001F602", "plain", "ü&ü", "é"} {
		enc := EncodeMailbox(name, false)
		got, err := DecodeMailbox(enc, false)
		if err != nil || got != name {
			t.Errorf("%q encodes to %q, which decodes to %q, %v", name, enc, got, err)
		}
	}
}

func FuzzMailbox(f *testing.F) {
	for _, s := range []string{"Entw&APw-rfe", "&-", "&ZeVnLIqe-", "&2D3eAQ-", "a&APw-&AGE-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := DecodeMailbox(s, false)
		if err != nil || dec == "INBOX" {
			return
		}
		// A name that decodes is the one way to write its decoded form.
		if enc := EncodeMailbox(dec, false); enc != s {
			t.Fatalf("%q decodes to %q, which encodes to %q", s, dec, enc)
		}
		if !utf8.ValidString(dec) {
			t.Fatalf("%q decodes to invalid UTF-8 %q", s, dec)
		}
	})
}
