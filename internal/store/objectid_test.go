package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestEmailIDRoundTrip(t *testing.T) {
	id := EmailIDOf("0123456789abcdef", 42)
	if !ValidObjectID(id) {
		t.Fatalf("EmailIDOf = %q, not an OBJECTID", id)
	}
	base, uid, ok := ParseEmailID(id)
	if !ok || base != "0123456789abcdef" || uid != 42 {
		t.Fatalf("ParseEmailID(%q) = %q %d %v", id, base, uid, ok)
	}
	for _, bad := range []string{"", "0123-4", "M-4", "Mabc-", "Mabc-x", "Ma-b-4", "Mab_c-4", "Mabc-99999999999"} {
		if _, _, ok := ParseEmailID(bad); ok {
			t.Errorf("ParseEmailID(%q) ok", bad)
		}
	}
	for _, bad := range []string{"", "a b", "a.b", "é", strings.Repeat("a", 256)} {
		if ValidObjectID(bad) {
			t.Errorf("ValidObjectID(%q)", bad)
		}
	}
}

func TestAddKeywords(t *testing.T) {
	cur := make([]string, 1, 4)
	cur[0] = "Work"
	got, err := AddKeywords(cur, []string{FlagSeen, "work", "$Label1", "$label1", "Other"})
	if err != nil || !slices.Equal(got, []string{"Work", "$Label1", "Other"}) {
		t.Fatalf("AddKeywords = %q, %v", got, err)
	}
	if cur[:2][1] != "" {
		t.Fatal("AddKeywords wrote into its argument's array")
	}
	var full []string
	for i := range MaxKeywords {
		full = append(full, fmt.Sprint("k", i))
	}
	if got, err := AddKeywords(full, []string{"K1", FlagDeleted}); err != nil || len(got) != MaxKeywords {
		t.Fatalf("known keyword into a full list: %d, %v", len(got), err)
	}
	_, err = AddKeywords(full, []string{"new"})
	if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("new keyword into a full list: %v", err)
	}
}
