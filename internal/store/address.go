package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Length limits of names in the directory.
const (
	// MaxLocalPart is the longest local part, in octets (RFC 5321 section
	// 4.5.3.1.1).
	MaxLocalPart = 64
	// MaxDomain is the longest domain in its A-label text form: 255 octets
	// on the wire (RFC 5321 section 4.5.3.1.2, RFC 1035 section 2.3.4) are
	// 253 characters without the trailing dot.
	MaxDomain = 253
	// MaxLabel is the longest label of a domain (RFC 1035 section 2.3.4).
	MaxLabel = 63
	// MaxAddress is the longest address: a path is at most 256 octets
	// including "<" and ">" (RFC 5321 section 4.5.3.1.3).
	MaxAddress = 256 - 2
)

// maxNameInput bounds the input the checks look at, so that a hostile
// argument costs nothing before it is refused. Every rune is at least one
// octet of the A-label form, and UTF-8 takes at most 4 octets a rune, so
// an input above it is too long in any form.
const maxNameInput = 4 * (MaxDomain + 2)

// NameError is a refused address or domain. It matches ErrInvalid.
type NameError struct {
	Kind   string // "address" or "domain"
	Name   string // as given
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("store: %s %s: %s", e.Kind, quoteName(e.Name), e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *NameError) Is(target error) bool { return target == ErrInvalid }

// quoteName quotes s for an error line: escaped (no control character
// reaches a terminal or a log) and cut after 64 bytes.
func quoteName(s string) string {
	const show = 64
	if len(s) <= show {
		return strconv.Quote(s)
	}
	cut := show
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// CheckDomain checks a domain that is about to enter the directory and
// returns the form the directory keeps: lower-case, internationalized
// labels as A-labels (RFC 5890 section 2.3.2.1), so "Bücher.Example"
// becomes "xn--bcher-kva.example". It refuses what IDNA2008's registration
// rules refuse (RFC 5891 section 4: hyphens in places 3 and 4 unless it is
// a valid A-label, leading or trailing hyphens, disallowed code points,
// anything but letters, digits and hyphens in ASCII labels), empty labels,
// a trailing dot, labels over 63 octets, domains over 253, and an
// all-numeric top-level label (RFC 3696 section 2: no IP address as a
// domain).
func CheckDomain(domain string) (string, error) {
	bad := func(why string) (string, error) {
		return "", &NameError{Kind: "domain", Name: domain, Reason: why}
	}
	if domain == "" {
		return bad("empty")
	}
	if len(domain) > maxNameInput {
		return bad(fmt.Sprintf("longer than %d octets", MaxDomain))
	}
	if !utf8.ValidString(domain) {
		return bad("not UTF-8")
	}
	if why := badRunes(domain); why != "" {
		return bad(why)
	}
	// The registration profile does not map case; lower-casing first
	// keeps "Example.ORG" an acceptable spelling of example.org.
	ascii, err := idna.Registration.ToASCII(strings.ToLower(domain))
	if err != nil {
		return bad(idnaReason(err))
	}
	if len(ascii) > MaxDomain {
		return bad(fmt.Sprintf("longer than %d octets", MaxDomain))
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return bad("empty label")
		case len(l) > MaxLabel:
			return bad(fmt.Sprintf("label longer than %d octets", MaxLabel))
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return bad("all-numeric top-level label")
	}
	return ascii, nil
}

// idnaReason says why the IDNA check failed without repeating the input,
// which the idna package quotes whole.
func idnaReason(err error) string {
	msg := strings.TrimPrefix(err.Error(), "idna: ")
	if strings.HasPrefix(msg, "disallowed rune ") && len(msg) < 40 {
		return msg
	}
	return "not a valid IDNA2008 name (RFC 5891 section 4)"
}

// CheckAddress checks an address that is about to enter the directory (a
// user) and returns the form the directory keeps: lower-case, the domain
// as CheckDomain returns it. The local part is a dot-atom of ASCII atext
// (RFC 5322 section 3.2.3) without "/": no quoted strings, no empty or
// leading, trailing or doubled dots, no spaces, control characters or
// slashes, at most 64 octets; the whole address at most 254 (RFC 5321
// section 4.5.3.1).
func CheckAddress(addr string) (string, error) {
	bad := func(why string) (string, error) {
		return "", &NameError{Kind: "address", Name: addr, Reason: why}
	}
	if len(addr) > maxNameInput {
		return bad(fmt.Sprintf("longer than %d octets", MaxAddress))
	}
	if !utf8.ValidString(addr) {
		return bad("not UTF-8")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return bad("no @ (want local@domain)")
	}
	local, domain := strings.ToLower(addr[:at]), addr[at+1:]
	if why := checkLocalPart(local); why != "" {
		return bad(why)
	}
	d, err := CheckDomain(domain)
	if err != nil {
		return bad(err.(*NameError).Reason + " in the domain")
	}
	full := local + "@" + d
	if len(full) > MaxAddress {
		return bad(fmt.Sprintf("longer than %d octets", MaxAddress))
	}
	return full, nil
}

// checkLocalPart returns why local is not a dot-atom local part, or "".
func checkLocalPart(local string) string {
	switch {
	case local == "":
		return "empty local part"
	case len(local) > MaxLocalPart:
		return fmt.Sprintf("local part longer than %d octets", MaxLocalPart)
	}
	if why := badRunes(local); why != "" {
		return why
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return "empty atom in the local part (leading, trailing or doubled dot)"
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return fmt.Sprintf("%q is not allowed in a local part (quoted strings and non-ASCII are not accepted)", atom[i])
			}
		}
	}
	return ""
}

// badRunes names the first control character, space or slash of s, or
// returns "". These are refused everywhere, with a message that says so.
func badRunes(s string) string {
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Sprintf("control character %U", r)
		case r == ' ' || r == '\u00a0':
			return "space"
		case r == '/' || r == '\\':
			return fmt.Sprintf("%q (a path separator)", r)
		}
	}
	return ""
}

// isAtext reports whether c is atext (RFC 5322 section 3.2.3) other than
// "/", which is kept out of account names as a path separator.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-=?^_`{|}~", c) >= 0
}
