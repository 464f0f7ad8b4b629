package auth

import (
	"regexp"
	"strings"
	"testing"
)

// referenceHash was made by the reference implementation (libargon2's CLI):
//
//	echo -n "correct horse" | argon2 bucketmailsalt16 -id -t 2 -k 19456 -p 1 -l 32 -e
const referenceHash = "$argon2id$v=19$m=19456,t=2,p=1$YnVja2V0bWFpbHNhbHQxNg$sHNfxdNhTRgY+zOsfaUXk8ejG2Q/IBozCI3X2ew4SEA"

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	h1, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !phcRE.MatchString(h1) {
		t.Fatalf("hash %q is not the expected PHC string", h1)
	}
	h2, _ := HashPassword("s3cret")
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tc := range []struct {
		hash, password string
		want           bool
	}{
		{h1, "s3cret", true},
		{h1, "s3cret ", false},
		{referenceHash, "correct horse", true},
		{referenceHash, "correct horse battery", false},
	} {
		ok, err := verify(tc.hash, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("verify(%q, %q) = %v, %v; want %v", tc.hash, tc.password, ok, err, tc.want)
		}
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	salt, key := "YnVja2V0bWFpbHNhbHQxNg", "sHNfxdNhTRgY+zOsfaUXk8ejG2Q/IBozCI3X2ew4SEA"
	for _, h := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,  // not argon2id
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, // old version
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=2,p=1$" + salt + "$" + key, // memory bomb
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key, // time bomb
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=0,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$extra",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
	} {
		if ok, err := verify(h, "correct horse"); ok || err == nil {
			t.Errorf("verify(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	re := regexp.MustCompile(`^[a-km-z2-9]{5}(-[a-km-z2-9]{5}){3}$`)
	seen := map[string]bool{}
	for range 100 {
		p := GeneratePassword()
		if !re.MatchString(p) || strings.ContainsAny(p, "l10o") {
			t.Fatalf("password %q has the wrong shape", p)
		}
		if seen[p] {
			t.Fatalf("password %q generated twice", p)
		}
		seen[p] = true
	}
}
