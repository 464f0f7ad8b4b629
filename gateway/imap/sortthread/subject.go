// Package sortthread orders messages for the IMAP SORT and THREAD commands
// (RFC 5256) and the DISPLAYFROM/DISPLAYTO sort keys (RFC 5957). It works on
// what the mailbox index keeps of each message (subject, addresses, dates,
// size, Message-ID, References), so a SORT or THREAD never reads an object.
//
// Strings are compared with the i;unicode-casemap collation (RFC 5051), as
// I18NLEVEL=1 requires of a server with SORT and THREAD (RFC 5255): each
// character is mapped to its titlecase and the result fully decomposed
// (NFKD); the results are compared octet by octet.
package sortthread

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Casemap returns the i;unicode-casemap key of s (RFC 5051 section 2):
// two strings are equal under the collation when their keys are equal, and
// they order as their keys do.
func Casemap(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // ASCII titlecase is uppercase; NFKD is identity
	}
	t := strings.Map(unicode.ToTitle, strings.ToValidUTF8(s, "\uFFFD"))
	return norm.NFKD.String(t)
}

// BaseSubject extracts the base subject of subject (RFC 5256 section 2.1)
// and reports whether the extraction removed a reply or forward marker
// ("Re:", "Fw:", "Fwd:", a "(fwd)" trailer or a "[fwd: ...]" wrapper),
// which THREAD=REFERENCES uses when it merges threads by subject.
// subject must already be decoded from RFC 2047 encoded-words (the index
// keeps it decoded); the result is not case-mapped.
func BaseSubject(subject string) (base string, replyOrForward bool) {
	// (1) Tabs and continuations become a space, runs of spaces one.
	s := collapseSpace(subject)
	for {
		// (2) Remove trailers: "(fwd)" and white space, repeatedly.
		for {
			t := strings.TrimRight(s, " ")
			if n := len(t); n >= 5 && strings.EqualFold(t[n-5:], "(fwd)") {
				t = t[:n-5]
				replyOrForward = true
			}
			if t == s {
				break
			}
			s = t
		}
		// (3)-(5) Remove leaders ("re:", "fwd:" with blobs before them, or
		// white space) and blobs that leave a non-empty base.
		for {
			if t, refwd, ok := cutLeader(s); ok {
				replyOrForward = replyOrForward || refwd
				s = t
				continue
			}
			if t, ok := cutBlob(s); ok && t != "" {
				s = t
				continue
			}
			break
		}
		// (6) "[fwd: ... ]" around the whole: unwrap and start again at (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			replyOrForward = true
			continue
		}
		return s, replyOrForward
	}
}

// collapseSpace turns every run of white space (space, tab, CR, LF) into
// one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// cutLeader removes one subj-leader from the front of s:
//
//	subj-leader = (*subj-blob subj-refwd) / WSP
//	subj-refwd  = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
//
// Leading white space alone also counts as a leader; refwd reports whether
// a "re:"/"fw:"/"fwd:" was removed.
func cutLeader(s string) (rest string, refwd, ok bool) {
	if strings.HasPrefix(s, " ") {
		return strings.TrimLeft(s, " "), false, true
	}
	rest = s
	for {
		if t, ok := cutRefwd(rest); ok {
			return t, true, true
		}
		t, ok := cutBlob(rest)
		if !ok {
			return s, false, false
		}
		rest = t
	}
}

// cutRefwd removes one subj-refwd from the front of s.
func cutRefwd(s string) (string, bool) {
	var n int
	switch {
	case len(s) >= 3 && strings.EqualFold(s[:3], "fwd"):
		n = 3
	case len(s) >= 2 && (strings.EqualFold(s[:2], "re") || strings.EqualFold(s[:2], "fw")):
		n = 2
	default:
		return s, false
	}
	t := strings.TrimLeft(s[n:], " ")
	if b, ok := cutBlob(t); ok {
		t = b
	}
	if !strings.HasPrefix(t, ":") {
		return s, false
	}
	return t[1:], true
}

// cutBlob removes one subj-blob from the front of s:
//
//	subj-blob = "[" *BLOBCHAR "]" *WSP     ; BLOBCHAR: any octet but [ and ]
func cutBlob(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return s, false
	}
	end := strings.IndexAny(s[1:], "[]")
	if end < 0 || s[1+end] != ']' {
		return s, false
	}
	return strings.TrimLeft(s[end+2:], " "), true
}
