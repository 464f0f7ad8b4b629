package abuse

import (
	"context"
	"testing"
)

func TestUnknownRecipients(t *testing.T) {
	l := openLimits(t, Config{})
	ctx := context.Background()
	for i := range 3 {
		if n := l.UnknownRecipient(ctx, "192.0.2.1", ""); n != int64(i+1) {
			t.Fatalf("count %d, want %d", n, i+1)
		}
	}
	l.UnknownRecipient(ctx, "192.0.2.1", "Alice@example.test")
	for _, tc := range []struct {
		ip, user string
		want     int64
	}{
		{"192.0.2.1", "", 3},
		{"192.0.2.2", "", 0},
		{"192.0.2.1", "alice@example.test", 1}, // a user has a count of their own
		{"192.0.2.9", "ALICE@example.test", 1},
	} {
		if n := l.UnknownRecipients(ctx, tc.ip, tc.user); n != tc.want {
			t.Errorf("UnknownRecipients(%s, %s) = %d, want %d", tc.ip, tc.user, n, tc.want)
		}
	}
	var none *Limits
	if none.UnknownRecipient(ctx, "192.0.2.1", "") != 0 || none.UnknownRecipients(ctx, "192.0.2.1", "") != 0 {
		t.Error("nil Limits counted")
	}
}
