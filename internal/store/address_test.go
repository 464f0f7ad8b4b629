package store

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.org":                              "example.org",
		"Example.ORG":                              "example.org",
		"localhost":                                "localhost",
		"bücher.example":                           "xn--bcher-kva.example",
		"Bücher.Example":                           "xn--bcher-kva.example",
		"xn--bcher-kva.example":                    "xn--bcher-kva.example",
		"mail-1.a-b.example":                       "mail-1.a-b.example",
		strings.Repeat("a", 63) + ".example":       strings.Repeat("a", 63) + ".example",
		strings.Repeat("abcdefg.", 30) + "example": strings.Repeat("abcdefg.", 30) + "example", // 247
		"例え.テスト":                                   "xn--r8jz45g.xn--zckzah",
	} {
		got, err := CheckDomain(in)
		if err != nil || got != want {
			t.Errorf("CheckDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "xn--", "xn--.example", "xn--zz.example", "xn--a", ".example.org", "example.org.", "a..b",
		"-a.example", "a-.example", "ab--c.example", "a_b.example", "a b.example", "a/b.example",
		"..", "ex\x01ample.org", "example.org\n", "1.2.3.4", "[127.0.0.1]", "a@b.example",
		"ＥＸＡＭＰＬＥ.org", "\u200d.example",
		strings.Repeat("a", 64) + ".example",
		strings.Repeat("abcdefgh.", 28) + "example", // 259
		strings.Repeat("a", 10000),
		"\xff.example",
	} {
		got, err := CheckDomain(in)
		if err == nil {
			t.Errorf("CheckDomain(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckDomain(%q): %v does not match ErrInvalid", in, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x01") || len(msg) > 300 {
			t.Errorf("CheckDomain(%q): error is not one short line: %q", in, msg)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	long := strings.Repeat("a", 64)
	for in, want := range map[string]string{
		"alice@example.org":       "alice@example.org",
		"Alice.Smith@Example.ORG": "alice.smith@example.org",
		"a+tag@example.org":       "a+tag@example.org",
		"o'brien@example.org":     "o'brien@example.org",
		"x_y-z=1@example.org":     "x_y-z=1@example.org",
		"anna@bücher.example":     "anna@xn--bcher-kva.example",
		long + "@example.org":     long + "@example.org",
		long + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61): long + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61),
	} {
		got, err := CheckAddress(in)
		if err != nil || got != want {
			t.Errorf("CheckAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "alice", "@example.org", "alice@", "../x@example.org", "a/b@example.org", `a\b@example.org`,
		".alice@example.org", "alice.@example.org", "a..b@example.org", "x\x01@example.org",
		"a b@example.org", " alice@example.org", "alice@example.org ", `"a b"@example.org`,
		"a@b@example.org", "<alice@example.org>", "alice@xn--", "alice@example.org.", "alice@1.2.3.4",
		"alice@[127.0.0.1]", "jöran@example.org", "a,b@example.org", "a;b@example.org", "a(b)@example.org",
		strings.Repeat("a", 65) + "@example.org",
		long + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62), // 255
		strings.Repeat("x", 10000) + "@example.org",
	} {
		got, err := CheckAddress(in)
		if err == nil {
			t.Errorf("CheckAddress(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckAddress(%q): %v does not match ErrInvalid", in, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x01") || len(msg) > 300 {
			t.Errorf("CheckAddress(%q): error is not one short line: %q", in, msg)
		}
	}
}

// FuzzCheckAddress checks that an accepted address is within the RFC 5321
// limits, ASCII, and accepted again unchanged (the stored form is stable).
func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"alice@example.org", "Anna@Bücher.example", "../x@example.org", "x\x01@a.b", "a@xn--", "a@b..c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CheckAddress(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || len(err.Error()) > 400 { // 64 input bytes, escaped
				t.Fatalf("CheckAddress(%q): %v", in, err)
			}
			return
		}
		local, domain, _ := strings.Cut(got, "@")
		if len(got) > MaxAddress || len(local) > MaxLocalPart || len(domain) > MaxDomain {
			t.Fatalf("CheckAddress(%q) = %q: over a limit", in, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] <= ' ' || got[i] >= 0x7f || got[i] == '/' {
				t.Fatalf("CheckAddress(%q) = %q: byte %#x", in, got, got[i])
			}
		}
		if again, err := CheckAddress(got); err != nil || again != got {
			t.Fatalf("CheckAddress(%q) = %q, but again: %q, %v", in, got, again, err)
		}
	})
}
