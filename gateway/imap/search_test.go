package imapgw

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

var lunchMsg = crlf(`
From: Bob <bob@example.org>
To: alice@example.org
Subject: Lunch
Date: Mon, 25 Dec 2023 11:00:00 +0000

Pizza?
`)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestSearchKeys(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliverAt(t, a, "INBOX", "Delivered-To: alice@example.org\r\n", plainMsg, time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC))
	env.deliverAt(t, a, "INBOX", "", multipartMsg, time.Date(2024, 1, 15, 23, 0, 0, 0, time.UTC), `\Seen`, "$Work")
	env.deliverAt(t, a, "INBOX", "", lunchMsg, time.Date(2023, 12, 26, 1, 0, 0, 0, time.UTC), `\Flagged`, `\Deleted`)
	c := env.dial(t, a, nil)
	mustSelect(t, c, "INBOX", false)

	cases := []struct {
		name string
		c    imap.SearchCriteria
		want []imap.UID
	}{
		{"ALL", imap.SearchCriteria{}, []imap.UID{1, 2, 3}},
		{"SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []imap.UID{2}},
		{"UNSEEN", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []imap.UID{1, 3}},
		{"KEYWORD $work", imap.SearchCriteria{Flag: []imap.Flag{"$work"}}, []imap.UID{2}},
		{"UNKEYWORD $Work", imap.SearchCriteria{NotFlag: []imap.Flag{"$Work"}}, []imap.UID{1, 3}},
		{"FLAGGED DELETED", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged, imap.FlagDeleted}}, []imap.UID{3}},
		{"FROM carol", hdr("From", "carol"), []imap.UID{1}},
		{"FROM Eve", hdr("From", "Eve"), []imap.UID{2}},
		{"TO alice", hdr("To", "ALICE"), []imap.UID{1, 2, 3}},
		{"CC dave", hdr("Cc", "dave"), []imap.UID{1}},
		{"BCC x", hdr("Bcc", "x"), nil},
		{"SUBJECT été", hdr("Subject", "photos été"), []imap.UID{2}},
		{"HEADER Delivered-To (prefix)", hdr("Delivered-To", "alice@"), []imap.UID{1}},
		{"HEADER Message-ID empty", hdr("Message-ID", ""), []imap.UID{1, 2}},
		{"BODY beach.", imap.SearchCriteria{Body: []string{"BEACH."}}, []imap.UID{2}},
		{"BODY numbers", imap.SearchCriteria{Body: []string{"numbers look"}}, []imap.UID{1}},
		{"BODY Carol (header only)", imap.SearchCriteria{Body: []string{"Sender <carol"}}, nil},
		{"TEXT Carol", imap.SearchCriteria{Text: []string{"Carol Sender"}}, []imap.UID{1}},
		{"BEFORE 1-Jan-2024", imap.SearchCriteria{Before: day(2024, 1, 1)}, []imap.UID{3}},
		{"SINCE 10-Mar-2024", imap.SearchCriteria{Since: day(2024, 3, 10)}, []imap.UID{1}},
		{"ON 15-Jan-2024", imap.SearchCriteria{Since: day(2024, 1, 15), Before: day(2024, 1, 16)}, []imap.UID{2}},
		{"SENTBEFORE 1-Jan-2024", imap.SearchCriteria{SentBefore: day(2024, 1, 1)}, []imap.UID{3}},
		{"SENTON 1-Jan-2024", imap.SearchCriteria{SentSince: day(2024, 1, 1), SentBefore: day(2024, 1, 2)}, []imap.UID{2}},
		{"SENTSINCE 9-Mar-2024", imap.SearchCriteria{SentSince: day(2024, 3, 9)}, []imap.UID{1}},
		{"SMALLER 200", imap.SearchCriteria{Smaller: 200}, []imap.UID{3}},
		{"LARGER 400", imap.SearchCriteria{Larger: 400}, []imap.UID{1, 2}},
		{"UID 2:*", imap.SearchCriteria{UID: []imap.UIDSet{{{Start: 2, Stop: 0}}}}, []imap.UID{2, 3}},
		{"2:3 (seq)", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 3}}}}, []imap.UID{2, 3}},
		{"* (seq)", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 0, Stop: 0}}}}, []imap.UID{3}},
		{"OR SEEN FLAGGED", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{
			{Flag: []imap.Flag{imap.FlagSeen}}, {Flag: []imap.Flag{imap.FlagFlagged}}}}}, []imap.UID{2, 3}},
		{"NOT SEEN", imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagSeen}}}}, []imap.UID{1, 3}},
		{"NOT BODY pizza", imap.SearchCriteria{Not: []imap.SearchCriteria{{Body: []string{"pizza"}}}}, []imap.UID{1, 2}},
	}
	for _, tc := range cases {
		data, err := c.UIDSearch(&tc.c, nil).Wait()
		if err != nil {
			t.Errorf("UID SEARCH %s: %v", tc.name, err)
			continue
		}
		if got := data.AllUIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("UID SEARCH %s = %v, want %v", tc.name, got, tc.want)
		}
	}

	// Sequence numbers, and the ESEARCH return options (RFC 4731).
	data, err := c.Search(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil || !slices.Equal(data.AllSeqNums(), []uint32{1, 3}) {
		t.Errorf("SEARCH UNSEEN = %v, %v", data, err)
	}
	data, err = c.UIDSearch(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil || data.Min != 1 || data.Max != 3 || data.Count != 3 {
		t.Errorf("SEARCH RETURN (MIN MAX COUNT) = %+v, %v", data, err)
	}

	// SEARCHRES (RFC 5182): SAVE then use "$".
	tr := rawLogin(t, env, a)
	tr.send("r1 SELECT INBOX")
	tr.expect("r1 OK")
	tr.send("r2 SEARCH RETURN (SAVE) KEYWORD $Work")
	tr.expect("r2 OK")
	tr.send("r3 FETCH $ (UID)")
	if line := tr.expect("* "); !strings.HasPrefix(line, "* 2 FETCH (UID 2") {
		t.Errorf("FETCH $: %q", line)
	}
	tr.expect("r3 OK")
}

func hdr(key, value string) imap.SearchCriteria {
	return imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: key, Value: value}}}
}

// TestSearchSeenFastPath: SEEN and UNSEEN alone come from the index's
// UIDs, and answer what the same search through the entries does.
func TestSearchSeenFastPath(t *testing.T) {
	t.Run("head cache", func(t *testing.T) { testSearchSeenFastPath(t, 0) })
	// A mailbox larger than the head cache is answered by SeenUIDs, and
	// its heads are listed every time.
	t.Run("index", func(t *testing.T) { testSearchSeenFastPath(t, 2) })
}

func testSearchSeenFastPath(t *testing.T, headEntries int) {
	env := newEnv(t, func(cfg *Config) { cfg.HeadCacheEntries = headEntries })
	for i := range 6 {
		var flags []string
		if i%3 == 0 {
			flags = []string{`\Seen`}
		}
		env.deliver(t, "alice@example.org", "INBOX", "", plainMsg, flags...)
	}
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("a1 SELECT INBOX")
	tr.expect("a1 OK")
	tr.send(`a2 STORE 2 +FLAGS.SILENT (\Seen)`)
	tr.expect("a2 OK")
	for _, q := range []struct{ fast, slow, want string }{
		{"UID SEARCH UNSEEN", "UID SEARCH UNSEEN UID 1:*", "* SEARCH 3 5 6"},
		{"UID SEARCH SEEN", "UID SEARCH SEEN UID 1:*", "* SEARCH 1 2 4"},
		{"SEARCH UNSEEN", "SEARCH UNSEEN 1:*", "* SEARCH 3 5 6"},
	} {
		tr.send("f " + q.fast)
		fast := tr.expect("* SEARCH")
		tr.expect("f OK")
		tr.send("s " + q.slow)
		slow := tr.expect("* SEARCH")
		tr.expect("s OK")
		if fast != q.want || slow != q.want {
			t.Errorf("%s: %q, through the entries %q, want %q", q.fast, fast, slow, q.want)
		}
	}
	if n := env.srv.heads.mailboxes(); headEntries > 0 && n != 0 {
		t.Errorf("%d mailboxes in a head cache of %d heads", n, headEntries)
	}
	sel := &selected{}
	program := func(keys ...wire.SearchKey) *searchNode {
		c, err := sel.criteria(&wire.SearchKey{Name: "AND", Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	unseen := wire.SearchKey{Name: "UNSEEN"}
	seen, ok := seenOnly(program(unseen, wire.SearchKey{Name: "ALL"}))
	if seen || !ok {
		t.Fatal("UNSEEN not taken for the fast path")
	}
	if _, ok := seenOnly(program(unseen, wire.SearchKey{Name: "LARGER", Number: 10})); ok {
		t.Fatal("UNSEEN LARGER 10 taken for the fast path")
	}
	if _, ok := seenOnly(program(wire.SearchKey{Name: "NOT", Keys: []wire.SearchKey{unseen}})); ok {
		t.Fatal("NOT UNSEEN taken for the fast path")
	}
}
