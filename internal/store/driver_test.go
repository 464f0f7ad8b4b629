package store

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestDriverChecks pins the checks every driver calls before it persists:
// what each refuses, and with which sentinel.
func TestDriverChecks(t *testing.T) {
	if d, err := CheckNewDomain(" Example.ORG "); d != "example.org" || err != nil {
		t.Errorf("CheckNewDomain = %q, %v", d, err)
	}
	for _, bad := range []string{"", " ", "a@b", "a b"} {
		if _, err := CheckNewDomain(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckNewDomain(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if a, d, err := CheckUserAddress(" Bob@Example.ORG "); a != "bob@example.org" || d != "example.org" || err != nil {
		t.Errorf("CheckUserAddress = %q, %q, %v", a, d, err)
	}
	for _, bad := range []string{"", "bob", "@example.org", "bob@", "b ob@example.org"} {
		if _, _, err := CheckUserAddress(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckUserAddress(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	src, d, targets, err := CheckAlias("@Example.org", []string{"A@x.example", "b@y.example"})
	if src != "@example.org" || d != "example.org" || !slices.Equal(targets, []string{"a@x.example", "b@y.example"}) || err != nil {
		t.Errorf("CheckAlias = %q, %q, %v, %v", src, d, targets, err)
	}
	for _, c := range []struct {
		src     string
		targets []string
	}{{"info@example.org", nil}, {"info", []string{"a@x.example"}}, {"info@example.org", []string{"@x.example"}}} {
		if _, _, _, err := CheckAlias(c.src, c.targets); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckAlias(%q, %q) = %v, want ErrInvalid", c.src, c.targets, err)
		}
	}
	for _, c := range []struct {
		old, new string
		want     error
	}{
		{"a/", "b", ErrNotFound}, {"a", "b/", ErrInvalid}, {"a", "inbox", ErrExists},
		{"a", "a/b", ErrInvalid}, {"a", "ab", nil}, {"inbox", "Old", nil},
	} {
		if _, _, err := CheckRename(c.old, c.new); !errors.Is(err, c.want) && (err != nil || c.want != nil) {
			t.Errorf("CheckRename(%q, %q) = %v, want %v", c.old, c.new, err, c.want)
		}
	}
	if o, n, _ := CheckRename("inbox/x", "y"); o != "INBOX/x" || n != "y" {
		t.Errorf("CheckRename canonical names = %q, %q", o, n)
	}
	for su, ok := range map[string]bool{"": true, `\Sent`: true, "Sent": false, `\Se nt`: false} {
		if _, err := CheckCreateMailbox("x", su); (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("CheckCreateMailbox special-use %q = %v", su, err)
		}
	}
	if n, err := CheckCreateMailbox("inbox/a", ""); n != "INBOX/a" || err != nil {
		t.Errorf("CheckCreateMailbox = %q, %v", n, err)
	}
	if _, err := CheckCreateMailbox("a//b", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckCreateMailbox bad name = %v", err)
	}
	if id := NewID(); len(id) != 32 || id == NewID() {
		t.Errorf("NewID = %q", id)
	}
	if f := DecodeFlags(EncodeFlags([]string{`\Seen`, "x"})); !slices.Equal(f, []string{`\Seen`, "x"}) || DecodeFlags("") != nil {
		t.Errorf("flags round trip = %v", f)
	}
}

// TestEnvelopeRoundTrip: a job's envelope survives the encoding every
// driver stores, in the stored field names.
func TestEnvelopeRoundTrip(t *testing.T) {
	j := Job{ID: "j1", Queue: "inbound", BlobKey: "msg/1", From: "", To: []string{"a@x.example", "b@y.example"},
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ClientIP: "192.0.2.1", Helo: "h.example", Auth: "u@x.example"}
	b, err := EncodeEnvelope(j)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blob":"msg/1","from":"","to":["a@x.example","b@y.example"],"received":"2026-01-02T03:04:05.000000006Z","ip":"192.0.2.1","helo":"h.example","auth":"u@x.example"}`
	if string(b) != want {
		t.Errorf("EncodeEnvelope = %s, want %s", b, want)
	}
	got := Job{ID: "j1", Queue: "inbound"}
	if err := DecodeEnvelope(b, &got); err != nil || got.BlobKey != j.BlobKey || !slices.Equal(got.To, j.To) ||
		!got.ReceivedAt.Equal(j.ReceivedAt) || got.ClientIP != j.ClientIP || got.Helo != j.Helo || got.Auth != j.Auth {
		t.Errorf("DecodeEnvelope = %+v, %v", got, err)
	}
	if err := DecodeEnvelope([]byte("{"), &got); err == nil {
		t.Error("DecodeEnvelope accepted broken JSON")
	}
}

// TestDriverOperationChecks pins the argument checks of the writing
// operations every driver calls.
func TestDriverOperationChecks(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		want error
	}{
		"delete INBOX":        {second(CheckDeleteMailbox("inbox")), ErrInvalid},
		"delete bad name":     {second(CheckDeleteMailbox("a//b")), ErrNotFound},
		"delete ok":           {second(CheckDeleteMailbox("a/b")), nil},
		"quota below":         {CheckQuota(QuotaUnlimited - 1), ErrInvalid},
		"quota unlimited":     {CheckQuota(QuotaUnlimited), nil},
		"message without key": {CheckNewMessage(NewMessage{Size: 1}), ErrInvalid},
		"message negative":    {CheckNewMessage(NewMessage{BlobKey: "k", Size: -1}), ErrInvalid},
		"message ok":          {CheckNewMessage(NewMessage{BlobKey: "k"}), nil},
		"flag op":             {second(CheckSetFlags(FlagOp(99), nil)), ErrInvalid},
		"flag bad":            {second(CheckSetFlags(FlagsAdd, []string{"a b"})), ErrInvalid},
		"job without queue":   {CheckJob(Job{ID: "j"}), ErrInvalid},
		"job without id":      {CheckJob(Job{Queue: "q"}), ErrInvalid},
		"job ok":              {CheckJob(Job{ID: "j", Queue: "q"}), nil},
		"lease no holder":     {CheckLease("n", "", time.Second), ErrInvalid},
		"lease zero ttl":      {CheckLease("n", "h", 0), ErrInvalid},
		"lease ok":            {CheckLease("n", "h", time.Nanosecond), nil},
	} {
		if (c.want == nil) != (c.err == nil) || (c.want != nil && !errors.Is(c.err, c.want)) {
			t.Errorf("%s: %v, want %v", name, c.err, c.want)
		}
	}
	if f, err := CheckSetFlags(FlagsAdd, []string{"\\seen", "x", "X"}); err != nil || !slices.Equal(f, []string{`\Seen`, "x"}) {
		t.Errorf("CheckSetFlags = %v, %v", f, err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestSnapshotChecks pins the checks of snapshot imports.
func TestSnapshotChecks(t *testing.T) {
	if CheckDirectorySnapshot(nil) == nil || CheckDirectorySnapshot(&DirectorySnapshot{Version: SnapshotVersion + 1}) == nil ||
		CheckDirectorySnapshot(&DirectorySnapshot{Version: SnapshotVersion}) != nil {
		t.Error("CheckDirectorySnapshot does not check the version alone")
	}
	if CheckUserSnapshot(&UserSnapshot{Version: SnapshotVersion}) == nil || CheckUserSnapshot(&UserSnapshot{Version: SnapshotVersion, UserID: "u"}) != nil {
		t.Error("CheckUserSnapshot does not require the user")
	}
	if a, d, err := CheckImportedUser(User{ID: "u", Address: "A@X.example"}); a != "a@x.example" || d != "x.example" || err != nil {
		t.Errorf("CheckImportedUser = %q, %q, %v", a, d, err)
	}
	if _, _, err := CheckImportedUser(User{Address: "a@x.example"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckImportedUser without ID = %v", err)
	}
	if s, d, err := CheckImportedAlias("@X.example"); s != "@x.example" || d != "x.example" || err != nil {
		t.Errorf("CheckImportedAlias = %q, %q, %v", s, d, err)
	}
	if _, _, err := CheckImportedAlias("x.example"); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckImportedAlias without @ = %v", err)
	}
}
