// Package auth checks passwords: argon2id hashes in the PHC string format
// (RFC 9106, with the OWASP parameters m=19 MiB, t=2, p=1) and the login of
// a user by address and password, shared by SMTP submission, IMAP and POP3.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	saltLen      = 16
	keyLen       = 32
)

// Bounds on the parameters of hashes we verify, so that a hash planted in
// the directory cannot make a login allocate unbounded memory or time.
const (
	maxMemory  = 1 << 20 // KiB (1 GiB)
	maxTime    = 16
	maxThreads = 16
	maxKeyLen  = 128
)

var errBadHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
func HashPassword(password string) (string, error) {
	return hashWith(password, argonMemory, argonTime, argonThreads)
}

// hashWith hashes with the given cost; verification reads it back from
// the string, so older hashes keep working when the defaults change.
func hashWith(password string, memory, time uint32, threads uint8) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, time, memory, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		memory, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parsePHC(s string) (phc, error) {
	var h phc
	f := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return h, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil {
		return h, errBadHash
	}
	if h.memory == 0 || h.memory > maxMemory || h.time == 0 || h.time > maxTime ||
		threads == 0 || threads > maxThreads || h.memory < 8*threads {
		return h, errBadHash
	}
	h.threads = uint8(threads)
	var err error
	if h.salt, err = b64.DecodeString(f[4]); err != nil || len(h.salt) == 0 {
		return h, errBadHash
	}
	if h.key, err = b64.DecodeString(f[5]); err != nil || len(h.key) == 0 || len(h.key) > maxKeyLen {
		return h, errBadHash
	}
	return h, nil
}

// verify reports whether password matches the PHC string hash. The
// comparison takes constant time.
func verify(hash, password string) (bool, error) {
	h, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// passwordAlphabet has no look-alikes (0/O, 1/l/I) so passwords can be read
// aloud and typed; 32 symbols give 5 bits each.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// GeneratePassword returns a random password of four groups of five
// characters separated by "-" (100 bits of entropy), e.g.
// "k7mqp-x2hvd-9trza-c3wfn".
func GeneratePassword() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(passwordAlphabet[int(c)%len(passwordAlphabet)])
	}
	return sb.String()
}
