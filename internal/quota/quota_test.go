package quota

import (
	"context"
	"errors"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct{ quota, def, want int64 }{
		{0, 0, Unlimited}, {0, 100, 100}, {50, 100, 50}, {50, 0, 50},
		{store.QuotaUnlimited, 100, Unlimited},
	} {
		if got := Limit(store.User{Quota: c.quota}, c.def); got != c.want {
			t.Errorf("Limit(quota %d, default %d) = %d, want %d", c.quota, c.def, got, c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1GiB": 1 << 30, "500MB": 500e6, "10m": 10 << 20, "2048": 2048, "1536 KiB": 1536 << 10,
		"0": 0, "default": 0, "unlimited": -1, "None": -1, "7b": 7, "4T": 1 << 42,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	// Not a whole positive size: refused, never read as default or
	// unlimited.
	for _, bad := range []string{"", "x", "-5", "-1", "1QB", "GiB", "1e-9", "1e9", "0.5K", "1.5G", "0.0", "00",
		"+5", "0x10", "1_000", "5 5M", "9223372036854775807", "4194305T", "NaN", "Inf"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if got := FormatSize(1536); got != "1.5 KiB" {
		t.Errorf("FormatSize(1536) = %q", got)
	}
	if got := FormatSize(100); got != "100 B" {
		t.Errorf("FormatSize(100) = %q", got)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	st := testenv.Embedded(t)
	db, u := st.Store, st.User("a@example.org")
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, store.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "", store.NewMessage{BlobKey: "msg/x", Size: 100, Summary: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, db, u, 0, 1<<40); err != nil {
		t.Fatalf("unlimited: %v", err)
	}
	if err := Check(ctx, db, u, 150, 50); err != nil {
		t.Fatalf("100+50 <= 150: %v", err)
	}
	err = Check(ctx, db, u, 150, 51)
	var over *OverError
	if !errors.As(err, &over) || !errors.Is(err, ErrOverQuota) || over.Usage != 100 || over.Limit != 150 {
		t.Fatalf("100+51 > 150: err = %v", err)
	}
	if err := Check(ctx, db, u, 100, 0); !errors.Is(err, ErrOverQuota) {
		t.Fatalf("usage 100 >= quota 100 with unknown size: err = %v", err)
	}
	u.Quota = store.QuotaUnlimited
	if err := Check(ctx, db, u, 10, 1000); err != nil {
		t.Fatalf("user unlimited over a default: %v", err)
	}
}
