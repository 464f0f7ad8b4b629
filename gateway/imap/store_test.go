package imapgw

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestStoreFlags(t *testing.T) {
	env := newEnv(t)
	for range 3 {
		env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	}
	c := env.dial(t, "alice@example.org", nil)
	mustSelect(t, c, "INBOX", false)

	store := func(set imap.NumSet, op imap.StoreFlagsOp, silent bool, flags ...imap.Flag) map[uint32][]imap.Flag {
		t.Helper()
		msgs, err := c.Store(set, &imap.StoreFlags{Op: op, Silent: silent, Flags: flags}, nil).Collect()
		if err != nil {
			t.Fatalf("STORE: %v", err)
		}
		out := map[uint32][]imap.Flag{}
		for _, m := range msgs {
			out[m.SeqNum] = m.Flags
		}
		return out
	}
	flagsOf := func(seq uint32) []imap.Flag {
		t.Helper()
		msgs, err := c.Fetch(imap.SeqSetNum(seq), &imap.FetchOptions{Flags: true}).Collect()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("FETCH FLAGS: %v", err)
		}
		slices.Sort(msgs[0].Flags)
		return msgs[0].Flags
	}

	got := store(imap.SeqSetNum(1, 2), imap.StoreFlagsAdd, false, imap.FlagFlagged, "$Label1")
	if len(got) != 2 || !slices.Contains(got[1], imap.FlagFlagged) || !slices.Contains(got[2], "$Label1") {
		t.Errorf("+FLAGS answered %v", got)
	}
	if got := store(imap.SeqSetNum(2), imap.StoreFlagsDel, true, imap.FlagFlagged); len(got) != 0 {
		t.Errorf("-FLAGS.SILENT answered %v", got)
	}
	if f := flagsOf(2); !slices.Equal(f, []imap.Flag{"$Label1", flagRecent}) {
		t.Errorf("after -FLAGS: %v", f)
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	store(all, imap.StoreFlagsSet, true, imap.FlagSeen, imap.FlagAnswered)
	for seq := uint32(1); seq <= 3; seq++ {
		if f := flagsOf(seq); !slices.Equal(f, []imap.Flag{imap.FlagAnswered, flagRecent, imap.FlagSeen}) {
			t.Errorf("message %d after FLAGS: %v", seq, f)
		}
	}
	// System flags are case-insensitive; \Recent cannot be stored: it is
	// the session's (this one selected the messages first).
	store(imap.UIDSetNum(3), imap.StoreFlagsAdd, true, `\deleted`, `\Recent`)
	if f := flagsOf(3); !slices.Equal(f, []imap.Flag{imap.FlagAnswered, imap.FlagDeleted, flagRecent, imap.FlagSeen}) {
		t.Errorf("after +FLAGS (\\deleted \\Recent): %v", f)
	}
}

// TestStoreAnswersNewFlags: a non-silent STORE answers with the flags after
// the change (RFC 9051 section 6.4.6), also when the session's mailbox
// heads were cached before it (fetchmail saw `STORE 4 +FLAGS (\Seen)`
// answered `* 4 FETCH (UID 11 FLAGS ())`).
func TestStoreAnswersNewFlags(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		for range 3 {
			env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
		}
		c := env.dial(t, "alice@example.org", nil)
		mustSelect(t, c, "INBOX", false)
		var all imap.SeqSet
		all.AddRange(1, 0)
		if _, err := c.Fetch(all, &imap.FetchOptions{Flags: true}).Collect(); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			set   imap.NumSet
			flags *imap.StoreFlags
			want  []imap.Flag
		}{
			{imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, []imap.Flag{flagRecent, imap.FlagSeen}},
			{imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsSet, Flags: []imap.Flag{"$Label1", imap.FlagFlagged}}, []imap.Flag{"$Label1", imap.FlagFlagged, flagRecent}},
			{imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}}, []imap.Flag{imap.FlagAnswered, flagRecent, imap.FlagSeen}},
			{imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagFlagged}}, []imap.Flag{"$Label1", flagRecent}},
			{imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, []imap.Flag{imap.FlagAnswered, flagRecent, imap.FlagSeen}}, // no change
		} {
			msgs, err := c.Store(tc.set, tc.flags, nil).Collect()
			if err != nil {
				t.Fatalf("STORE %v: %v", tc.flags, err)
			}
			if len(msgs) != 1 {
				t.Fatalf("STORE %v: %d FETCH responses", tc.flags, len(msgs))
			}
			got := slices.Sorted(slices.Values(msgs[0].Flags))
			if !slices.Equal(got, tc.want) {
				t.Errorf("STORE %v %v answered FLAGS %v, want %v", tc.set, *tc.flags, got, tc.want)
			}
		}
	})
}
