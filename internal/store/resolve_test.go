package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/fault"
)

// tableDir is a Directory made of lookup tables; Resolve needs only
// HasDomain, UserByAddress and AliasTargets.
type tableDir struct {
	Directory // nil: any other method panics
	domains   []string
	users     []string // addresses; the ID is "id-" + address
	aliases   map[string][]string
	err       error // returned by every lookup when set
}

func (d *tableDir) HasDomain(ctx context.Context, domain string) (bool, error) {
	return slices.Contains(d.domains, domain), d.err
}

func (d *tableDir) UserByAddress(ctx context.Context, address string) (User, error) {
	if d.err != nil {
		return User{}, d.err
	}
	if slices.Contains(d.users, address) {
		return User{ID: "id-" + address, Address: address}, nil
	}
	return User{}, ErrNotFound
}

func (d *tableDir) AliasTargets(ctx context.Context, source string) ([]string, error) {
	return d.aliases[source], d.err
}

func testDir() *tableDir {
	return &tableDir{
		domains: []string{"example.org", "example.net"},
		users:   []string{"alice@example.org", "bob@example.org", "carol@example.net", "dave+x@example.org"},
		aliases: map[string][]string{
			"info@example.org":       {"alice@example.org", "Bob@Example.org"},
			"team@example.org":       {"info@example.org", "alice@example.org", "carol@example.net"},
			"fwd@example.org":        {"someone@elsewhere.com", "alice@example.org"},
			"loop1@example.org":      {"loop2@example.org"},
			"loop2@example.org":      {"loop1@example.org", "bob@example.org"},
			"self@example.org":       {"self@example.org"},
			"alice+spam@example.org": {"bob@example.org"},
			"@example.net":           {"carol@example.net"},
			"ghost@example.org":      {"nobody@example.org"},
			"half@example.org":       {"nobody@example.org", "bob@example.org"},
			"tagged@example.org":     {"alice+lists@example.org"},
			"ext2@example.org":       {"x@elsewhere.com", "fwd@example.org", "X@elsewhere.com"},
		},
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		users    []string // addresses, in order
		external []string
		err      error
	}{
		{addr: "alice@example.org", users: []string{"alice@example.org"}},
		{addr: "ALICE@Example.ORG", users: []string{"alice@example.org"}},
		{addr: "info@example.org", users: []string{"alice@example.org", "bob@example.org"}},
		// Nested aliases, users deduplicated.
		{addr: "team@example.org", users: []string{"alice@example.org", "bob@example.org", "carol@example.net"}},
		{addr: "fwd@example.org", users: []string{"alice@example.org"}, external: []string{"someone@elsewhere.com"}},
		{addr: "ext2@example.org", users: []string{"alice@example.org"}, external: []string{"x@elsewhere.com", "someone@elsewhere.com"}},
		// Loops end.
		{addr: "loop1@example.org", users: []string{"bob@example.org"}},
		{addr: "self@example.org", err: ErrNotFound},
		// Plus-addressing (RFC 5233); an alias of the full address wins.
		{addr: "alice+news@example.org", users: []string{"alice@example.org"}},
		{addr: "alice+a+b@example.org", users: []string{"alice@example.org"}},
		{addr: "alice+spam@example.org", users: []string{"bob@example.org"}},
		{addr: "dave+x@example.org", users: []string{"dave+x@example.org"}},
		{addr: "tagged@example.org", users: []string{"alice@example.org"}},
		{addr: "nobody+tag@example.org", err: ErrNotFound},
		{addr: "+tag@example.org", err: ErrNotFound},
		// Catch-all, also behind plus-addressing.
		{addr: "anything@example.net", users: []string{"carol@example.net"}},
		{addr: "x+y@example.net", users: []string{"carol@example.net"}},
		// Aliases to nowhere.
		{addr: "ghost@example.org", err: ErrNotFound},
		{addr: "half@example.org", users: []string{"bob@example.org"}},
		{addr: "nobody@example.org", err: ErrNotFound},
		{addr: "alice@elsewhere.com", err: ErrNotLocal},
		{addr: "alice", err: ErrInvalid},
		{addr: "@example.org", err: ErrInvalid},
		{addr: "alice@", err: ErrInvalid},
		{addr: "", err: ErrInvalid},
	} {
		res, err := Resolve(context.Background(), testDir(), tc.addr)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !fault.IsPermanent(err) {
				t.Errorf("Resolve(%q) = %+v, %v; want %v", tc.addr, res, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tc.addr, err)
			continue
		}
		var users []string
		for _, u := range res.Users {
			users = append(users, u.Address)
			if u.ID != "id-"+u.Address {
				t.Errorf("Resolve(%q): user %+v lost its ID", tc.addr, u)
			}
		}
		if !slices.Equal(users, tc.users) || !slices.Equal(res.External, tc.external) {
			t.Errorf("Resolve(%q) = users %q external %q; want %q %q", tc.addr, users, res.External, tc.users, tc.external)
		}
	}
}

func TestResolveDepthLimit(t *testing.T) {
	d := testDir()
	// chain0 → chain1 → ... → chainN → alice: beyond maxAliasDepth levels
	// alice is not reached.
	chain := func(n int) string { return "chain" + strings.Repeat("x", n) + "@example.org" }
	for i := range 20 {
		d.aliases[chain(i)] = []string{chain(i + 1)}
	}
	d.aliases[chain(20)] = []string{"alice@example.org"}
	if _, err := Resolve(context.Background(), d, chain(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve of a 21-level chain = %v, want ErrNotFound", err)
	}
	res, err := Resolve(context.Background(), d, chain(20-maxAliasDepth+1))
	if err != nil || len(res.Users) != 1 {
		t.Fatalf("Resolve of a %d-level chain = %+v, %v; want alice", maxAliasDepth, res, err)
	}
}

func TestResolveStorageError(t *testing.T) {
	d := testDir()
	boom := errors.New("database is locked")
	d.err = boom
	_, err := Resolve(context.Background(), d, "alice@example.org")
	if !errors.Is(err, boom) || fault.IsPermanent(err) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve with a failing directory = %v; want the temporary storage error", err)
	}
}
