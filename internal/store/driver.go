package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// The checks and normal forms below are the part of the contract that does
// not depend on how a driver persists: every driver calls them, so that
// both refuse and normalise the same input the same way.

// NormAddress returns an address or domain as the directory keys it: trimmed
// and in lower case.
func NormAddress(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// SplitAddress splits local@domain at the last @; local is "" for a
// catch-all source "@domain". An address without a domain or with white
// space is not ok.
func SplitAddress(a string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(a, '@')
	if i < 0 || i == len(a)-1 || strings.ContainsAny(a, " \t\r\n") {
		return "", "", false
	}
	return a[:i], a[i+1:], true
}

// CheckNewDomain normalises a domain to add and refuses an empty one or one
// with @ or white space (ErrInvalid). It is the drivers' last line; the
// full check of what the admin commands create is CheckDomain.
func CheckNewDomain(domain string) (string, error) {
	d := NormAddress(domain)
	if d == "" || strings.ContainsAny(d, "@ \t\r\n") {
		return "", fmt.Errorf("%w: domain %q", ErrInvalid, d)
	}
	return d, nil
}

// CheckUserAddress normalises the address of a new user and returns it with
// its domain; an address without a local part or domain is ErrInvalid.
func CheckUserAddress(address string) (addr, domain string, err error) {
	addr = NormAddress(address)
	local, domain, ok := SplitAddress(addr)
	if !ok || local == "" {
		return "", "", fmt.Errorf("%w: address %q", ErrInvalid, addr)
	}
	return addr, domain, nil
}

// CheckAlias normalises an alias source (local@domain, or @domain for a
// catch-all) and its targets, which must be full addresses; it returns the
// source's domain too. No target, or a malformed address, is ErrInvalid.
func CheckAlias(source string, targets []string) (src, domain string, norm []string, err error) {
	src = NormAddress(source)
	_, domain, ok := SplitAddress(src)
	if !ok || len(targets) == 0 {
		return "", "", nil, fmt.Errorf("%w: alias %q with %d targets", ErrInvalid, src, len(targets))
	}
	norm = make([]string, 0, len(targets))
	for _, t := range targets {
		t = NormAddress(t)
		if l, _, ok := SplitAddress(t); !ok || l == "" {
			return "", "", nil, fmt.Errorf("%w: alias target %q", ErrInvalid, t)
		}
		norm = append(norm, t)
	}
	return src, domain, norm, nil
}

// NewID returns a random user ID: 16 bytes, hex.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// CheckMailboxName validates a client-supplied mailbox name
// (ValidMailboxName) and returns its canonical form.
func CheckMailboxName(name string) (string, error) {
	if err := ValidMailboxName(name); err != nil {
		return "", err
	}
	return CanonicalMailboxName(name), nil
}

// CheckSpecialUse checks the special-use attribute of a new mailbox (RFC
// 6154): empty, or one backslash-prefixed atom.
func CheckSpecialUse(specialUse string) error {
	if specialUse != "" && (!strings.HasPrefix(specialUse, `\`) || strings.ContainsAny(specialUse, " \t\r\n")) {
		return fmt.Errorf("%w: special-use %q", ErrInvalid, specialUse)
	}
	return nil
}

// CheckRename checks the names of a RenameMailbox and returns their
// canonical forms: a malformed old name names no mailbox (ErrNotFound), a
// malformed new name is ErrInvalid, INBOX as the new name exists already
// (ErrExists), and a mailbox cannot move under itself (ErrInvalid).
func CheckRename(oldName, newName string) (string, string, error) {
	oldName, err := CheckMailboxName(oldName)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	newName, err = CheckMailboxName(newName)
	switch {
	case err != nil:
		return "", "", err
	case newName == Inbox:
		return "", "", fmt.Errorf("%w: mailbox INBOX", ErrExists)
	case strings.HasPrefix(newName, oldName+string(Delimiter)):
		return "", "", fmt.Errorf("%w: cannot rename %q under itself", ErrInvalid, oldName)
	}
	return oldName, newName, nil
}

// EncodeFlags writes a flag list (in the normal form of NormalizeFlags) as
// drivers store it: space-separated.
func EncodeFlags(flags []string) string { return strings.Join(flags, " ") }

// DecodeFlags reads what EncodeFlags wrote; "" is no flag (nil).
func DecodeFlags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
