package srs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of Reverse. Both are permanent: the address will never be valid.
var (
	// ErrNotSRS is returned for an address that is not in SRS form.
	ErrNotSRS = errors.New("srs: not an SRS address")
	// ErrInvalid is returned for an SRS address whose hash matches none of
	// the keys, or that is malformed.
	ErrInvalid = errors.New("srs: invalid address")
	// ErrExpired is returned for an SRS0 address older than MaxAge.
	ErrExpired = errors.New("srs: address expired")
)

// MaxAge is how long an SRS0 address is accepted after the day it was
// made. A bounce normally comes within the outbound lifetime (days); 21
// days is the common default of SRS implementations.
const MaxAge = 21 * 24 * time.Hour

// hashLen is how many base64 characters of the HMAC an address carries.
const hashLen = 6

// tsAlphabet is the base32 alphabet of the timestamp (RFC 4648 section 6).
const tsAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// tsPeriod is how many days the two timestamp characters can tell apart.
const tsPeriod = 32 * 32

// IsSRS reports whether the local part of addr has the SRS0 or SRS1 form.
func IsSRS(addr string) bool {
	local, _, ok := split(addr)
	if !ok || len(local) < 5 {
		return false
	}
	p := strings.ToUpper(local[:5])
	return p == "SRS0=" || p == "SRS1="
}

// Forward rewrites sender for mail forwarded from domain fwd at time at,
// with key. The null sender stays null (RFC 5321 section 4.5.5: nothing is
// ever sent back to it). A sender whose local part cannot be carried in
// an address gives an error.
func Forward(key []byte, sender, fwd string, at time.Time) (string, error) {
	if sender == "" {
		return "", nil
	}
	local, domain, ok := split(sender)
	if !ok || !plainLocal(local) {
		return "", fmt.Errorf("srs: sender %q cannot be rewritten", sender)
	}
	switch {
	case hasPrefixFold(local, "SRS0="):
		// SRS1=HHH=domain==HHH=TT=orig-domain=user: the hop that made the
		// SRS0 address is the one able to reverse it.
		rest := local[4:]
		return "SRS1=" + hash(key, domain, rest) + "=" + domain + "=" + rest + "@" + fwd, nil
	case hasPrefixFold(local, "SRS1="):
		first, rest, ok := cutSRS1(local)
		if !ok {
			return "", fmt.Errorf("srs: sender %q: %w", sender, ErrInvalid)
		}
		return "SRS1=" + hash(key, first, rest) + "=" + first + "=" + rest + "@" + fwd, nil
	}
	ts := timestamp(at)
	return "SRS0=" + hash(key, ts, domain, local) + "=" + ts + "=" + domain + "=" + local + "@" + fwd, nil
}

// Reverse returns the address mail to the SRS address addr goes to: the
// original sender for SRS0, the previous forwarder's SRS0 address for
// SRS1. The hash must match one of keys; an SRS0 timestamp must be within
// MaxAge of now.
func Reverse(keys [][]byte, addr string, now time.Time) (string, error) {
	local, _, ok := split(addr)
	if !ok || !IsSRS(addr) {
		return "", ErrNotSRS
	}
	if hasPrefixFold(local, "SRS1=") {
		first, rest, ok := cutSRS1(local)
		if !ok || !matches(keys, local[5:5+hashLen], first, rest) {
			return "", ErrInvalid
		}
		return "SRS0" + rest + "@" + first, nil
	}
	parts := strings.SplitN(local[5:], "=", 4)
	if len(parts) != 4 || parts[2] == "" || parts[3] == "" {
		return "", ErrInvalid
	}
	h, ts, domain, user := parts[0], parts[1], parts[2], parts[3]
	if !matches(keys, h, ts, domain, user) {
		return "", ErrInvalid
	}
	if !fresh(ts, now) {
		return "", ErrExpired
	}
	return user + "@" + domain, nil
}

// cutSRS1 splits the local part SRS1=HHH=first==rest into first and
// "=rest" (the SRS0 remainder with its separator).
func cutSRS1(local string) (first, rest string, ok bool) {
	s := local[5:]
	if len(s) < hashLen+1 || s[hashLen] != '=' {
		return "", "", false
	}
	s = s[hashLen+1:]
	i := strings.Index(s, "==")
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// hash is the first hashLen base64 characters of the HMAC of parts.
func hash(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(strings.ToLower(p)))
		m.Write([]byte{0})
	}
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))[:hashLen]
}

// matches compares in constant time, ignoring case: some hops lower-case
// local parts, which the hash was computed to survive.
func matches(keys [][]byte, h string, parts ...string) bool {
	if len(h) != hashLen {
		return false
	}
	for _, k := range keys {
		want := hash(k, parts...)
		if hmac.Equal([]byte(strings.ToLower(want)), []byte(strings.ToLower(h))) {
			return true
		}
	}
	return false
}

// timestamp is the day of t as two base32 characters.
func timestamp(t time.Time) string {
	d := t.Unix() / 86400 % tsPeriod
	return string([]byte{tsAlphabet[d>>5], tsAlphabet[d&31]})
}

// fresh reports whether ts names a day at most MaxAge before now (and not
// after it).
func fresh(ts string, now time.Time) bool {
	ts = strings.ToUpper(ts)
	if len(ts) != 2 {
		return false
	}
	hi, lo := strings.IndexByte(tsAlphabet, ts[0]), strings.IndexByte(tsAlphabet, ts[1])
	if hi < 0 || lo < 0 {
		return false
	}
	today := now.Unix() / 86400 % tsPeriod
	age := (today - int64(hi<<5|lo) + tsPeriod) % tsPeriod
	return age <= int64(MaxAge/(24*time.Hour))
}

// plainLocal reports whether local is a dot-atom (RFC 5322 section 3.2.3)
// of ASCII or UTF-8 (RFC 6531): what can be embedded in another local part
// without quoting.
func plainLocal(local string) bool {
	if local == "" {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

func split(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
