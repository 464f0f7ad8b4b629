package imapgw

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/message"
)

var sortDay = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sortAt(h int) time.Time { return sortDay.Add(time.Duration(h) * time.Hour) }

// corpusMsg is one message of the SORT and THREAD corpora: its internal
// date (hours after sortDay), its header lines, and the size it is padded
// to.
type corpusMsg struct {
	arrival int
	header  []string
	size    int
}

func (m corpusMsg) raw() string {
	raw := strings.Join(m.header, "\r\n") + "\r\n\r\n"
	if pad := m.size - len(raw) - 2; pad > 0 {
		raw += strings.Repeat("x", pad) + "\r\n"
	}
	return raw
}

func date(h int) string { return "Date: " + sortAt(h).Format(time.RFC1123Z) }

// sortMessages: sequence numbers 1..7; the expected orders in TestSort
// are worked out from RFC 5256 section 3 and RFC 5957 by hand.
var sortMessages = []corpusMsg{
	{5, []string{date(1), "Subject: Re: Budget", "From: Carol <carol@example.org>", "To: bob@example.org"}, 4000},
	{2, []string{date(3), "Subject: [team] agenda", `From: "Alice Z" <Alice@example.org>`, "To: Dave <dave@example.org>", "Cc: Zed <zed@example.org>"}, 2000},
	{1, []string{"Subject: budget", "From: bob@example.org", "To: Alice <alice@example.org>"}, 3000}, // no Date
	{4, []string{date(3), "Subject: Fwd: Agenda (fwd)", "From: alice <alice@example.org>", "To: carol <Carol@example.org>", "Cc: Amy <amy@example.org>"}, 2000},
	{3, []string{date(0), "Subject: Zebra", "From: =?UTF-8?Q?=C3=89mile?= <EMILE@example.org>"}, 1500},
	{6, []string{date(6), "Subject: re: [x] zebra"}, 4000},
	{0, []string{date(7), "From: =?UTF-8?Q?=C3=A9mile?= <emile@example.org>"}, 1100}, // no Subject
}

// threadMessages: ten messages with replies, a missing parent referred to
// twice, one referred to once, a reply found by subject only, a duplicate
// Message-ID, and one whose References holds no msg-id (its In-Reply-To
// counts).
var threadMessages = []corpusMsg{
	{0, []string{date(1), "Subject: Meeting", "Message-ID: <a@x>"}, 0},
	{0, []string{date(2), "Subject: Re: Meeting", "Message-ID: <b@x>", "References: <a@x>"}, 0},
	{0, []string{date(3), "Subject: Re: Re: Meeting", "Message-ID: <c@x>", "References: <a@x>\r\n <b@x>"}, 0},
	{0, []string{date(4), "Subject: Re: Meeting", "Message-ID: <d@x>", "In-Reply-To: <a@x>"}, 0},
	{0, []string{date(5), "Subject: Lunch", "Message-ID: <e@x>"}, 0},
	{0, []string{date(6), "Subject: Re: Budget", "Message-ID: <f@x>", "References: <gone@x>"}, 0},
	{0, []string{date(7), "Subject: RE: budget", "Message-ID: <g@x>", "References: <gone@x>"}, 0},
	{0, []string{date(8), "Subject: Re: [food] Lunch", "Message-ID: <h@x>"}, 0},
	{0, []string{date(0), "Subject: Solo", "Message-ID: <i@x>", "References: <z@x>"}, 0},
	{0, []string{date(10), "Subject: meeting", "Message-ID: <a@x>"}, 0}, // duplicate Message-ID
	{0, []string{date(11), "Subject: Unrelated", "Message-ID: <k@x>", "References: (no ids here)", "In-Reply-To: <e@x> <a@x>"}, 0},
}

func appendCorpus(t *testing.T, c *imapclient.Client, msgs []corpusMsg) {
	t.Helper()
	for _, m := range msgs {
		appendMsg(t, c, "INBOX", m.raw(), &imap.AppendOptions{Time: sortAt(m.arrival)})
	}
}

func TestSort(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		c := env.dial(t, "alice@example.org", nil)
		appendCorpus(t, c, sortMessages)
		mustSelect(t, c, "INBOX", true)
		if caps := c.Caps(); !caps.Has("SORT") || !caps.Has("SORT=DISPLAY") || !caps.Has("ESORT") ||
			!caps.Has("THREAD=REFERENCES") || !caps.Has("THREAD=ORDEREDSUBJECT") {
			t.Errorf("capabilities %v", caps)
		}
		key := func(k string, rev bool) imapclient.SortCriterion {
			return imapclient.SortCriterion{Key: imapclient.SortKey(k), Reverse: rev}
		}
		for _, tc := range []struct {
			keys []imapclient.SortCriterion
			want []uint32
		}{
			{[]imapclient.SortCriterion{key("ARRIVAL", false)}, []uint32{7, 3, 2, 5, 4, 1, 6}},
			{[]imapclient.SortCriterion{key("ARRIVAL", true)}, []uint32{6, 1, 4, 5, 2, 3, 7}},
			// 3 has no Date: its arrival (1h) counts, after 1 (1h too); 2 and 4 tie.
			{[]imapclient.SortCriterion{key("DATE", false)}, []uint32{5, 1, 3, 2, 4, 6, 7}},
			{[]imapclient.SortCriterion{key("SIZE", false)}, []uint32{7, 5, 2, 4, 3, 1, 6}},
			{[]imapclient.SortCriterion{key("SIZE", false), key("ARRIVAL", true)}, []uint32{7, 5, 4, 2, 3, 6, 1}},
			// Base subjects: budget, agenda, budget, agenda, zebra, zebra, "".
			{[]imapclient.SortCriterion{key("SUBJECT", false)}, []uint32{7, 2, 4, 1, 3, 5, 6}},
			{[]imapclient.SortCriterion{key("SUBJECT", false), key("DATE", true)}, []uint32{7, 2, 4, 1, 3, 6, 5}},
			// addr-mailbox: carol, Alice, bob, alice, EMILE, "", emile.
			{[]imapclient.SortCriterion{key("FROM", false)}, []uint32{6, 2, 4, 3, 1, 5, 7}},
			{[]imapclient.SortCriterion{key("TO", false)}, []uint32{5, 6, 7, 3, 1, 4, 2}},
			{[]imapclient.SortCriterion{key("CC", false)}, []uint32{1, 3, 5, 6, 7, 4, 2}},
			// Display names, else addr-spec: Carol, Alice Z, bob@example.org,
			// alice, Émile, "", émile.
			{[]imapclient.SortCriterion{key("DISPLAYFROM", false)}, []uint32{6, 4, 2, 3, 1, 5, 7}},
			{[]imapclient.SortCriterion{key("DISPLAYTO", true)}, []uint32{2, 4, 1, 3, 5, 6, 7}},
		} {
			got, err := c.Sort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{}, SortCriteria: tc.keys}).Wait()
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("SORT %v = %v, %v; want %v", tc.keys, got, err, tc.want)
			}
		}
		// With search criteria, and UID SORT (UIDs are 1..7 here too).
		got, err := c.UIDSort(&imapclient.SortOptions{
			SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "budget"}}},
			SortCriteria:   []imapclient.SortCriterion{key("ARRIVAL", false)},
		}).Wait()
		if err != nil || !slices.Equal(got, []uint32{3, 1}) {
			t.Errorf("UID SORT (ARRIVAL) SUBJECT budget = %v, %v", got, err)
		}
	})
}

// formatThreads writes go-imap's parse of a THREAD answer back in the
// response's syntax, to compare with one written by hand.
func formatThreads(ts []imapclient.ThreadData) string {
	var b strings.Builder
	var write func(t imapclient.ThreadData)
	write = func(t imapclient.ThreadData) {
		for i, n := range t.Chain {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprint(&b, n)
		}
		if len(t.SubThreads) > 0 && len(t.Chain) > 0 {
			b.WriteByte(' ')
		}
		for _, s := range t.SubThreads {
			b.WriteByte('(')
			write(s)
			b.WriteByte(')')
		}
	}
	for _, t := range ts {
		b.WriteByte('(')
		write(t)
		b.WriteByte(')')
	}
	return b.String()
}

func TestThread(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		c := env.dial(t, "alice@example.org", nil)
		appendCorpus(t, c, threadMessages)
		mustSelect(t, c, "INBOX", true)
		all := &imap.SearchCriteria{}
		for _, tc := range []struct {
			alg  imap.ThreadAlgorithm
			want string
		}{
			// RFC 5256 section 3, REFERENCES: 1<-2<-3 and 1<-4 by
			// References and In-Reply-To; 6 and 7 under the missing <gone>
			// (two children: the dummy stays); 9's missing parent <z> has
			// one child, which is promoted; 11's References has no msg-id,
			// so the first of its In-Reply-To (5) is its parent. By
			// subject: 8 (a reply) goes under 5; 1 and 10 (neither a
			// reply) under a new dummy. Roots by sent date: 9, 1, 5, 6.
			{imap.ThreadReferences, "(9)((1 (2 3)(4))(10))(5 (8)(11))((6)(7))"},
			// ORDEREDSUBJECT: groups by base subject, each by date, the
			// first the parent of the rest; groups by their first's date.
			{imap.ThreadOrderedSubject, "(9)(1 (2)(3)(4)(10))(5 8)(6 7)(11)"},
		} {
			got, err := c.Thread(&imapclient.ThreadOptions{Algorithm: tc.alg, SearchCriteria: all}).Wait()
			if err != nil || formatThreads(got) != tc.want {
				t.Errorf("THREAD %s = %s, %v\nwant %s", tc.alg, formatThreads(got), err, tc.want)
			}
		}
		// UID THREAD of a search: 2 is gone, 3's References still name it.
		got, err := c.UIDThread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences,
			SearchCriteria: &imap.SearchCriteria{Not: []imap.SearchCriteria{{UID: []imap.UIDSet{imap.UIDSetNum(2)}}}}}).Wait()
		if want := "(9)((1 (3)(4))(10))(5 (8)(11))((6)(7))"; err != nil || formatThreads(got) != want {
			t.Errorf("UID THREAD REFERENCES NOT UID 2 = %s, %v\nwant %s", formatThreads(got), err, want)
		}
	})
}

// TestSortBadInput: errors the client made are BAD or NO, and the
// connection goes on.
func TestSortBadInput(t *testing.T) {
	env := newEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("s0 SELECT INBOX")
	tr.expect("s0 OK")
	for _, tc := range []struct{ cmd, want string }{
		{"s1 SORT (NAME) UTF-8 ALL", "s1 BAD"},
		{"s2 SORT () UTF-8 ALL", "s2 BAD"},
		{"s3 SORT (DATE) KOI8-R ALL", "s3 NO [BADCHARSET"},
		{"s4 THREAD SIDEWAYS UTF-8 ALL", "s4 BAD"},
		{"s5 THREAD REFERENCES ISO-8859-1 ALL", "s5 NO [BADCHARSET"},
		{"s6 SORT (REVERSE) UTF-8 ALL", "s6 BAD"},
		{"s7 SORT (DATE) UTF-8 FROB", "s7 BAD"},
		{"s8 SORT RETURN (MIN MAX) (DATE) UTF-8 ALL", "* ESEARCH (TAG \"s8\") MIN 1 MAX 1"},
		{"s9 SORT (ARRIVAL) US-ASCII ALL", "* SORT 1"},
	} {
		tr.send(tc.cmd)
		if got := tr.expect(strings.SplitN(tc.want, " ", 2)[0] + " "); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %s, want %s", tc.cmd, got, tc.want)
		}
	}
}

// TestESort: SORT RETURN answers ESEARCH (RFC 5267 section 3.2): MIN and
// MAX are the first and last in the sort order, ALL lists the matches in
// that order.
func TestESort(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)
	appendCorpus(t, c, sortMessages)
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("e0 EXAMINE INBOX")
	tr.expect("e0 OK")
	for _, tc := range []struct{ cmd, want string }{
		{"e1 SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 ALL", `* ESEARCH (TAG "e1") MIN 7 MAX 6 ALL 7,3,2,5,4,1,6 COUNT 7`},
		{"e2 UID SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 1:5", `* ESEARCH (TAG "e2") UID ALL 1,4:5,2:3`},
		{"e3 SORT RETURN () (SUBJECT) UTF-8 ALL", `* ESEARCH (TAG "e3") ALL 7,2,4,1,3,5:6`},
		{"e4 SORT RETURN (COUNT MIN) (DATE) UTF-8 SUBJECT nothing", `* ESEARCH (TAG "e4") COUNT 0`},
	} {
		tr.send(tc.cmd)
		if got := tr.expect("* ESEARCH"); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.cmd, got, tc.want)
		}
		tr.expect(tc.cmd[:2] + " OK")
	}
	tr.send("e5 SORT RETURN (SAVE) (REVERSE SIZE) UTF-8 SMALLER 2500")
	tr.expect("e5 OK")
	tr.send("e6 UID SEARCH UID $")
	if got := tr.expect("* SEARCH"); got != "* SEARCH 2 4 5 7" {
		t.Errorf("SEARCH $ after SORT RETURN (SAVE): %s", got)
	}
}

// TestSortReadsNoObjects: SORT by every key and THREAD by both algorithms
// on a few hundred messages are answered from the index.
func TestSortReadsNoObjects(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		for i := range 300 {
			m := threadMessages[i%len(threadMessages)]
			env.deliverAt(t, a, "INBOX", "Delivered-To: alice@example.org\r\n", m.raw(), sortAt(i%17))
		}
		c := env.dial(t, a, nil)
		mustSelect(t, c, "INBOX", true)
		before := env.blobs.Gets()
		for _, k := range []string{"ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"} {
			got, err := c.UIDSort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{},
				SortCriteria: []imapclient.SortCriterion{{Key: imapclient.SortKey(k)}}}).Wait()
			if err != nil || len(got) != 300 {
				t.Fatalf("SORT %s: %d, %v", k, len(got), err)
			}
		}
		for _, alg := range []imap.ThreadAlgorithm{imap.ThreadReferences, imap.ThreadOrderedSubject} {
			if _, err := c.Thread(&imapclient.ThreadOptions{Algorithm: alg, SearchCriteria: &imap.SearchCriteria{}}).Wait(); err != nil {
				t.Fatal(err)
			}
		}
		if got := env.blobs.Gets() - before; got != 0 {
			t.Fatalf("SORT and THREAD read %d message objects, want 0", got)
		}
	})
}

// TestDecodeSortSummary: the cut decoding gives what the whole decoder
// gives, for summaries as message.Marshal writes them and for others.
func TestDecodeSortSummary(t *testing.T) {
	for _, raw := range []string{plainMsg, multipartMsg, sortMessages[1].raw(), threadMessages[2].raw(),
		"Subject: =?utf-8?q?a_,\"b\":_b?=\r\nFrom: \",\\\"b\\\":\" <x@y>\r\n\r\n,\"b\":\r\n",
		"\r\nno header at all\r\n", "Subject: ,\"h\":\"x\" ,\"e\":\r\n\r\n"} {
		sum, err := message.Parse(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		enc := sum.Marshal()
		full, err := message.Unmarshal(enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{enc, []byte(`{"e":` + strings.SplitN(strings.SplitN(string(enc), `,"e":`, 2)[1], `,"b":`, 2)[0] + `}`)} {
			got, err := decodeSortSummary(b)
			if err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if !reflect.DeepEqual(got.Envelope, full.Envelope) {
				t.Errorf("envelope of %q:\n got %+v\nwant %+v", raw, got.Envelope, full.Envelope)
			}
			if bytes.Equal(b, enc) && !got.Date.Equal(full.Date) {
				t.Errorf("date of %q: %v, want %v", raw, got.Date, full.Date)
			}
		}
	}
	for _, bad := range []string{`not json`, `{"s":1,"e":{"subject":"x",,"b":{}}`} {
		if _, err := decodeSortSummary([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
