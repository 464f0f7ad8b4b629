package store

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalMailboxName(t *testing.T) {
	for in, want := range map[string]string{
		"INBOX":       "INBOX",
		"inbox":       "INBOX",
		"InBox":       "INBOX",
		"inbox/Work":  "INBOX/Work",
		"Inbox/inbox": "INBOX/inbox",
		"inboxes":     "inboxes",
		"Inbox2/x":    "Inbox2/x",
		"Sent":        "Sent",
		"a/inbox":     "a/inbox",
		"":            "",
	} {
		if got := CanonicalMailboxName(in); got != want {
			t.Errorf("CanonicalMailboxName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidMailboxName(t *testing.T) {
	for _, name := range []string{
		"INBOX", "Sent", "Archive/2024", "a/b/c/d", "Reports..old", "x.y", ".hidden",
		"Entwürfe", "日本語/メール", "with space", "[Gmail]/All Mail", "a&b", "~",
		strings.Repeat("x", 255),
	} {
		if err := ValidMailboxName(name); err != nil {
			t.Errorf("ValidMailboxName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{
		"", "/", "/a", "a/", "a//b", "..", "a/../b", "../a", "a/..", ".", "a/./b",
		"a\x00b", "a\tb", "a\nb", "a\rb", "a\x7fb", "a\u0085b",
		"a*", "a%b", "*", "%",
		"\xff\xfe", strings.Repeat("x", 256), strings.Repeat("é", 128),
	} {
		if err := ValidMailboxName(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidMailboxName(%q) = %v, want ErrInvalid", name, err)
		}
	}
}
