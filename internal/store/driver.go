package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
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

// CheckCreateMailbox checks the arguments of a CreateMailbox and returns
// the canonical name: a valid name (CheckMailboxName) and a special-use
// attribute (RFC 6154) that is empty or one backslash-prefixed atom; both
// errors are ErrInvalid.
func CheckCreateMailbox(name, specialUse string) (string, error) {
	name, err := CheckMailboxName(name)
	if err != nil {
		return "", err
	}
	if specialUse != "" && (!strings.HasPrefix(specialUse, `\`) || strings.ContainsAny(specialUse, " \t\r\n")) {
		return "", fmt.Errorf("%w: special-use %q", ErrInvalid, specialUse)
	}
	return name, nil
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

// CheckDeleteMailbox checks the name of a DeleteMailbox and returns its
// canonical form: a malformed name names no mailbox (ErrNotFound), and
// INBOX cannot be deleted (ErrInvalid; RFC 9051 section 6.3.5).
func CheckDeleteMailbox(name string) (string, error) {
	name, err := CheckMailboxName(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if name == Inbox {
		return "", fmt.Errorf("%w: cannot delete INBOX", ErrInvalid)
	}
	return name, nil
}

// CheckQuota refuses a quota below QuotaUnlimited (ErrInvalid).
func CheckQuota(bytes int64) error {
	if bytes < QuotaUnlimited {
		return fmt.Errorf("%w: quota %d", ErrInvalid, bytes)
	}
	return nil
}

// CheckNewMessage refuses a message without an object or with a negative
// size (ErrInvalid).
func CheckNewMessage(m NewMessage) error {
	if m.BlobKey == "" || m.Size < 0 {
		return fmt.Errorf("%w: message blob %q size %d", ErrInvalid, m.BlobKey, m.Size)
	}
	return nil
}

// CheckIdemKeys refuses a batch of InsertMessages in which one
// idempotency key is given twice (ErrInvalid): each names one entry.
func CheckIdemKeys(ms []NewMessage) error {
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		if m.IdemKey == "" {
			continue
		}
		if seen[m.IdemKey] {
			return fmt.Errorf("%w: idempotency key %q given twice", ErrInvalid, m.IdemKey)
		}
		seen[m.IdemKey] = true
	}
	return nil
}

// CheckSetFlags normalises the flags of a SetFlags (NormalizeFlags) and
// checks its operation; both errors are ErrInvalid.
func CheckSetFlags(op FlagOp, flags []string) ([]string, error) {
	flags, err := NormalizeFlags(flags)
	if err != nil {
		return nil, err
	}
	if op != FlagsReplace && op != FlagsAdd && op != FlagsRemove {
		return nil, fmt.Errorf("%w: flag op %d", ErrInvalid, op)
	}
	return flags, nil
}

// CheckJob refuses a job to enqueue without an ID or a queue (ErrInvalid).
func CheckJob(j Job) error {
	if j.ID == "" || j.Queue == "" {
		return fmt.Errorf("%w: job %q in queue %q", ErrInvalid, j.ID, j.Queue)
	}
	return nil
}

// CheckLease refuses a lease without a name or holder, or with a TTL that
// is not positive (ErrInvalid).
func CheckLease(name, holder string, ttl time.Duration) error {
	if name == "" || holder == "" || ttl <= 0 {
		return fmt.Errorf("%w: lease %q for %q, ttl %v", ErrInvalid, name, holder, ttl)
	}
	return nil
}

// CheckDirectorySnapshot refuses a directory snapshot of another version
// (ErrInvalid).
func CheckDirectorySnapshot(snap *DirectorySnapshot) error {
	if snap == nil || snap.Version != SnapshotVersion {
		return fmt.Errorf("%w: snapshot version", ErrInvalid)
	}
	return nil
}

// CheckUserSnapshot refuses a user snapshot of another version or without
// a user (ErrInvalid).
func CheckUserSnapshot(snap *UserSnapshot) error {
	if snap == nil || snap.Version != SnapshotVersion || snap.UserID == "" {
		return fmt.Errorf("%w: snapshot version or user", ErrInvalid)
	}
	return nil
}

// SnapshotSubscriptions returns the subscriptions an import of snap
// restores, sorted and distinct: snap.Subscriptions and the names of its
// subscribed mailboxes. A name that is not a valid mailbox name is
// ErrInvalid.
func SnapshotSubscriptions(snap *UserSnapshot) ([]string, error) {
	names := slices.Clone(snap.Subscriptions)
	for _, ms := range snap.Mailboxes {
		if ms.Mailbox.Subscribed {
			names = append(names, ms.Mailbox.Name)
		}
	}
	for i, n := range names {
		c, err := CheckMailboxName(n)
		if err != nil {
			return nil, fmt.Errorf("%w: subscription %q", ErrInvalid, n)
		}
		names[i] = c
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// CheckImportedUser normalises the address of a user from a directory
// snapshot and returns it with its domain; a malformed address or no ID is
// ErrInvalid.
func CheckImportedUser(u User) (addr, domain string, err error) {
	addr = NormAddress(u.Address)
	local, domain, ok := SplitAddress(addr)
	if !ok || local == "" || u.ID == "" {
		return "", "", fmt.Errorf("%w: user %q (%q)", ErrInvalid, addr, u.ID)
	}
	return addr, domain, nil
}

// CheckImportedAlias normalises an alias source from a directory snapshot
// and returns it with its domain (ErrInvalid if malformed).
func CheckImportedAlias(source string) (src, domain string, err error) {
	src = NormAddress(source)
	_, domain, ok := SplitAddress(src)
	if !ok {
		return "", "", fmt.Errorf("%w: alias %q", ErrInvalid, src)
	}
	return src, domain, nil
}
