package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// conn is a client's bytes and what the reader sent back.
type conn struct {
	r     *Reader
	conts int // continuation requests sent
}

func newConn(in string, lim Limits) *conn {
	c := &conn{}
	c.r = NewReader(bufio.NewReader(strings.NewReader(in)), lim, func() error { c.conts++; return nil })
	return c
}

func readOne(t *testing.T, in string) (*Command, error) {
	t.Helper()
	return newConn(in, Limits{}).r.ReadCommand()
}

func ptr[T any](v T) *T { return &v }

func set(rs ...uint32) NumSet {
	var s NumSet
	for i := 0; i+1 < len(rs); i += 2 {
		s.Ranges = append(s.Ranges, NumRange{rs[i], rs[i+1]})
	}
	return s
}

func and(keys ...SearchKey) SearchKey { return SearchKey{Name: "AND", Keys: keys} }

// TestCommands checks each command's grammar (RFC 9051 section 9 and the
// extensions' ABNF) with valid input.
func TestCommands(t *testing.T) {
	date := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		name string
		uid  bool
		args any
	}{
		{"a CAPABILITY", "CAPABILITY", false, nil},
		{"a noop", "NOOP", false, nil},
		{"a LOGOUT", "LOGOUT", false, nil},
		{"a STARTTLS", "STARTTLS", false, nil},
		{"a UNSELECT", "UNSELECT", false, nil},
		{"a UNAUTHENTICATE", "UNAUTHENTICATE", false, nil},
		{"a NAMESPACE", "NAMESPACE", false, nil},
		{"a CHECK", "CHECK", false, nil},
		{"a CLOSE", "CLOSE", false, nil},
		{"a EXPUNGE", "EXPUNGE", false, nil},
		{"a IDLE", "IDLE", false, nil},
		{"a UID EXPUNGE 1:3,7", "EXPUNGE", true, &UIDExpunge{Set: set(1, 3, 7, 7)}},
		{`a LOGIN joe "p a\"ss\\"`, "LOGIN", false, &Login{"joe", `p a"ss\`}},
		{"a LOGIN {3+}\r\njoe {2}\r\npw", "LOGIN", false, &Login{"joe", "pw"}},
		{"a AUTHENTICATE plain", "AUTHENTICATE", false, &Authenticate{Mechanism: "PLAIN"}},
		{"a AUTHENTICATE PLAIN AGpvZQBwdw==", "AUTHENTICATE", false, &Authenticate{"PLAIN", []byte("\x00joe\x00pw")}},
		{"a AUTHENTICATE EXTERNAL =", "AUTHENTICATE", false, &Authenticate{"EXTERNAL", []byte{}}},
		{"a ENABLE CONDSTORE utf8=accept", "ENABLE", false, &Enable{[]string{"CONDSTORE", "UTF8=ACCEPT"}}},
		{"a ID NIL", "ID", false, &ID{}},
		{`a ID ("name" "mutt" "version" NIL)`, "ID", false, &ID{[]IDParam{{"name", ptr("mutt")}, {"version", nil}}}},
		{"a ID ()", "ID", false, &ID{[]IDParam{}}},
		{"a COMPRESS deflate", "COMPRESS", false, &Compress{"DEFLATE"}},
		{"a SELECT inbox", "SELECT", false, &Select{Mailbox: "inbox"}},
		{"a EXAMINE INBOX (CONDSTORE)", "EXAMINE", false, &Select{Mailbox: "INBOX", CondStore: true}},
		{"a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))", "SELECT", false,
			&Select{Mailbox: "INBOX", QResync: &QResync{UIDValidity: 67890007, ModSeq: 20050715194045000, KnownUIDs: ptr(set(41, 41, 43, 211, 214, 541))}}},
		{"a SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:7 41:47)))", "SELECT", false,
			&Select{Mailbox: "INBOX", QResync: &QResync{UIDValidity: 67890007, ModSeq: 90060115194045000,
				KnownUIDs: ptr(set(41, 211, 214, 541)), SeqMatch: &[2]NumSet{set(1, 7), set(41, 47)}}}},
		{"a SELECT INBOX (QRESYNC (1 2 (1 3)))", "SELECT", false,
			&Select{Mailbox: "INBOX", QResync: &QResync{UIDValidity: 1, ModSeq: 2, SeqMatch: &[2]NumSet{set(1, 1), set(3, 3)}}}},
		// RFC 7162 section 3.2.5.2's example.
		{"a SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))", "SELECT", false,
			&Select{Mailbox: "INBOX", QResync: &QResync{UIDValidity: 67890007, ModSeq: 90060115194045000, KnownUIDs: ptr(set(1, 29997)), SeqMatch: &[2]NumSet{
				set(5000, 5000, 7500, 7500, 9000, 9000, 9990, 9999),
				set(15000, 15000, 22500, 22500, 27000, 27000, 29970, 29970, 29973, 29973, 29976, 29976, 29979, 29979,
					29982, 29982, 29985, 29985, 29988, 29988, 29991, 29991, 29994, 29994, 29997, 29997)}}}},
		{"a CREATE Sent", "CREATE", false, &Create{Mailbox: "Sent"}},
		{`a CREATE "Sent Items" (USE (\Sent \Archive))`, "CREATE", false, &Create{"Sent Items", []string{`\Sent`, `\Archive`}}},
		{"a DELETE foo", "DELETE", false, &MailboxArg{"foo"}},
		{"a SUBSCRIBE foo", "SUBSCRIBE", false, &MailboxArg{"foo"}},
		{"a UNSUBSCRIBE foo", "UNSUBSCRIBE", false, &MailboxArg{"foo"}},
		{"a GETQUOTAROOT INBOX", "GETQUOTAROOT", false, &MailboxArg{"INBOX"}},
		{"a GETQUOTA \"\"", "GETQUOTA", false, &GetQuota{""}},
		{"a SETQUOTA \"\" (STORAGE 512 message 10)", "SETQUOTA", false, &SetQuota{"", []QuotaLimit{{"STORAGE", 512}, {"MESSAGE", 10}}}},
		{"a RENAME a b", "RENAME", false, &Rename{"a", "b"}},
		{`a LIST "" *`, "LIST", false, &List{Reference: "", Patterns: []string{"*"}}},
		{`a LIST "" %/a]b`, "LIST", false, &List{Patterns: []string{"%/a]b"}}},
		{`a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))`, "LIST", false,
			&List{Selection: []string{"SUBSCRIBED", "RECURSIVEMATCH"}, Patterns: []string{"INBOX", "%"},
				Return: []string{"CHILDREN", "STATUS"}, Status: []string{"MESSAGES", "UNSEEN"}, Extended: true}},
		{`a LIST () "" % RETURN ()`, "LIST", false, &List{Selection: []string{}, Patterns: []string{"%"}, Return: []string{}, Extended: true}},
		{`a LSUB "" %`, "LSUB", false, &Lsub{"", "%"}},
		{"a STATUS INBOX (MESSAGES UIDNEXT size HIGHESTMODSEQ)", "STATUS", false, &Status{"INBOX", []string{"MESSAGES", "UIDNEXT", "SIZE", "HIGHESTMODSEQ"}}},
		{"a COPY 1:* Trash", "COPY", false, &Copy{set(1, Star), "Trash"}},
		{"a UID MOVE $ Trash", "MOVE", true, &Copy{NumSet{Saved: true}, "Trash"}},
		{"a STORE 4 +FLAGS (\\Seen)", "STORE", false, &Store{Set: set(4, 4), Op: StoreAdd, Flags: []string{`\Seen`}}},
		{"a UID STORE 1:2 -FLAGS.SILENT \\Deleted $Junk", "STORE", true, &Store{Set: set(1, 2), Op: StoreRemove, Silent: true, Flags: []string{`\Deleted`, "$Junk"}}},
		{"a STORE 1 FLAGS ()", "STORE", false, &Store{Set: set(1, 1), Op: StoreReplace}},
		{"a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)", "STORE", false,
			&Store{Set: set(7, 7, 5, 5, 9, 9), UnchangedSince: ptr(uint64(320162338)), Op: StoreAdd, Silent: true, Flags: []string{`\Deleted`}}},
		{"a SEARCH ALL", "SEARCH", false, &Search{Key: and(SearchKey{Name: "ALL"})}},
		{`a SEARCH CHARSET UTF-8 FROM "Smith" SINCE 1-Feb-2024 NOT (SEEN LARGER 100)`, "SEARCH", false, &Search{Charset: "UTF-8", Key: and(
			SearchKey{Name: "FROM", Value: "Smith"}, SearchKey{Name: "SINCE", Date: date},
			SearchKey{Name: "NOT", Keys: []SearchKey{and(SearchKey{Name: "SEEN"}, SearchKey{Name: "LARGER", Number: 100})}})}},
		{`a UID SEARCH RETURN (MIN COUNT SAVE) OR 1:5 UID 9:* HEADER X-Spam yes`, "SEARCH", true, &Search{Return: []string{"MIN", "COUNT", "SAVE"}, Key: and(
			SearchKey{Name: "OR", Keys: []SearchKey{{Name: "SEQSET", Set: ptr(set(1, 5))}, {Name: "UID", Set: ptr(set(9, Star))}}},
			SearchKey{Name: "HEADER", Field: "X-Spam", Value: "yes"})}},
		{`a SEARCH RETURN () $`, "SEARCH", false, &Search{Return: []string{}, Key: and(SearchKey{Name: "SEQSET", Set: &NumSet{Saved: true}})}},
		{`a SEARCH MODSEQ "/flags/\\draft" all 620162338 KEYWORD $Forwarded`, "SEARCH", false, &Search{Key: and(
			SearchKey{Name: "MODSEQ", EntryName: `/flags/\draft`, EntryType: "ALL", Number: 620162338}, SearchKey{Name: "KEYWORD", Value: "$Forwarded"})}},
		{`a SEARCH YOUNGER 3600 SENTBEFORE "1-Feb-2024" SAVEDATESUPPORTED EMAILID M6d99ac3275bb4e`, "SEARCH", false, &Search{Key: and(
			SearchKey{Name: "YOUNGER", Number: 3600}, SearchKey{Name: "SENTBEFORE", Date: date}, SearchKey{Name: "SAVEDATESUPPORTED"},
			SearchKey{Name: "EMAILID", Value: "M6d99ac3275bb4e"})}},
		{"a SEARCH SUBJECT {5+}\r\nh\xc3\xa9lo", "SEARCH", false, &Search{Key: and(SearchKey{Name: "SUBJECT", Value: "h\xc3\xa9lo"})}},
		{"a UID SORT (REVERSE DATE SUBJECT) UTF-8 ALL", "SORT", true, &Sort{Criteria: []SortCriterion{{"DATE", true}, {"SUBJECT", false}}, Charset: "UTF-8", Key: and(SearchKey{Name: "ALL"})}},
		{"a SORT RETURN (COUNT) (ARRIVAL) US-ASCII SEEN", "SORT", false, &Sort{Return: []string{"COUNT"}, Criteria: []SortCriterion{{"ARRIVAL", false}}, Charset: "US-ASCII", Key: and(SearchKey{Name: "SEEN"})}},
		{"a UID SEARCH RETURN (COUNT PARTIAL 1:100 UPDATE) SEEN", "SEARCH", true, &Search{Return: []string{"COUNT", "PARTIAL", "UPDATE"}, Partial: NumRange{1, 100}, Key: and(SearchKey{Name: "SEEN"})}},
		{"a SORT RETURN (CONTEXT partial 9:3) (ARRIVAL) UTF-8 ALL", "SORT", false, &Sort{Return: []string{"PARTIAL"}, Partial: NumRange{3, 9}, Criteria: []SortCriterion{{"ARRIVAL", false}}, Charset: "UTF-8", Key: and(SearchKey{Name: "ALL"})}},
		{`a CANCELUPDATE "b1" "c2"`, "CANCELUPDATE", false, &CancelUpdate{Tags: []string{"b1", "c2"}}},
		{"a THREAD REFERENCES UTF-8 SINCE 1-Feb-2024", "THREAD", false, &Thread{"REFERENCES", "UTF-8", and(SearchKey{Name: "SINCE", Date: date})}},
		{"a FETCH 1:* FAST", "FETCH", false, &Fetch{Set: set(1, Star), Macro: "FAST", Items: []FetchItem{{Name: "FLAGS"}, {Name: "INTERNALDATE"}, {Name: "RFC822.SIZE"}}}},
		{"a FETCH 1 all", "FETCH", false, &Fetch{Set: set(1, 1), Macro: "ALL", Items: []FetchItem{{Name: "FLAGS"}, {Name: "INTERNALDATE"}, {Name: "RFC822.SIZE"}, {Name: "ENVELOPE"}}}},
		{"a FETCH 1 FULL", "FETCH", false, &Fetch{Set: set(1, 1), Macro: "FULL", Items: []FetchItem{{Name: "FLAGS"}, {Name: "INTERNALDATE"}, {Name: "RFC822.SIZE"}, {Name: "ENVELOPE"}, {Name: "BODY"}}}},
		{"a FETCH 2 BODY[]", "FETCH", false, &Fetch{Set: set(2, 2), Items: []FetchItem{{Name: "BODY", Section: &Section{}}}}},
		{"a UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12345 VANISHED)", "FETCH", true, &Fetch{Set: set(1, Star), Items: []FetchItem{{Name: "UID"}, {Name: "FLAGS"}}, ChangedSince: 12345, Vanished: true}},
		{"a FETCH 5 (BODY.PEEK[1.2.HEADER.FIELDS (From \"To\")]<0.512> BODY[2]<0.7> BODY[TEXT] BODY[1.MIME] BODY[3.HEADER.FIELDS.NOT (X)])", "FETCH", false,
			&Fetch{Set: set(5, 5), Items: []FetchItem{
				{Name: "BODY", Peek: true, Section: &Section{Part: []uint32{1, 2}, Specifier: "HEADER.FIELDS", Fields: []string{"From", "To"}}, Partial: &Partial{0, 512}},
				{Name: "BODY", Section: &Section{Part: []uint32{2}}, Partial: &Partial{0, 7}},
				{Name: "BODY", Section: &Section{Specifier: "TEXT"}},
				{Name: "BODY", Section: &Section{Part: []uint32{1}, Specifier: "MIME"}},
				{Name: "BODY", Section: &Section{Part: []uint32{3}, Specifier: "HEADER.FIELDS.NOT", Fields: []string{"X"}}},
			}}},
		{"a FETCH 1 (BINARY[1]<0.7> BINARY.PEEK[] BINARY.SIZE[2.1] PREVIEW (LAZY) MODSEQ EMAILID THREADID SAVEDATE RFC822.HEADER BODYSTRUCTURE)", "FETCH", false,
			&Fetch{Set: set(1, 1), Items: []FetchItem{
				{Name: "BINARY", Section: &Section{Part: []uint32{1}}, Partial: &Partial{0, 7}},
				{Name: "BINARY", Peek: true, Section: &Section{}},
				{Name: "BINARY.SIZE", Section: &Section{Part: []uint32{2, 1}}},
				{Name: "PREVIEW", Lazy: true}, {Name: "MODSEQ"}, {Name: "EMAILID"}, {Name: "THREADID"}, {Name: "SAVEDATE"},
				{Name: "RFC822.HEADER"}, {Name: "BODYSTRUCTURE"},
			}}},
		{"A0001 fetch 4294967295 body", "FETCH", false, &Fetch{Set: set(4294967295, 4294967295), Items: []FetchItem{{Name: "BODY"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cmd, err := readOne(t, tt.in+"\r\n")
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if cmd.Name != tt.name || cmd.UID != tt.uid {
				t.Errorf("name %q uid %v, want %q %v", cmd.Name, cmd.UID, tt.name, tt.uid)
			}
			if !reflect.DeepEqual(cmd.Args, tt.args) {
				t.Errorf("args\n got %s\nwant %s", dump(cmd.Args), dump(tt.args))
			}
		})
	}
}

func dump(v any) string { return fmt.Sprintf("%+v", deref(v)) }

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// TestAppend reads an APPEND with flags and date, and a MULTIAPPEND
// (RFC 3502) with a synchronizing, a non-synchronizing and a binary message.
func TestAppend(t *testing.T) {
	in := "a APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello" +
		" {3+}\r\nabc ~{4}\r\nx\x00yz\r\n" +
		"b NOOP\r\n"
	c := newConn(in, Limits{})
	var infos []LiteralInfo
	c.r.Literal = func(i LiteralInfo) error { infos = append(infos, i); return nil }
	cmd, err := c.r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	a := cmd.Args.(*Append)
	if a.Mailbox != "saved-messages" {
		t.Errorf("mailbox %q", a.Mailbox)
	}
	m := a.Message
	want := time.Date(1994, 2, 7, 21, 52, 25, 0, time.FixedZone("", -8*3600))
	if !reflect.DeepEqual(m.Flags, []string{`\Seen`}) || !m.Date.Equal(want) || m.Size != 5 {
		t.Errorf("first message: %+v", m)
	}
	var got []string
	for m != nil {
		b, err := io.ReadAll(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
		if m, err = c.r.NextMessage(); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, []string{"hello", "abc", "x\x00yz"}) {
		t.Errorf("messages %q", got)
	}
	if c.conts != 2 {
		t.Errorf("%d continuation requests, want 2 (two synchronizing literals)", c.conts)
	}
	if len(infos) != 3 || !infos[0].Message || !infos[0].Sync || infos[1].Sync || !infos[2].Binary {
		t.Errorf("literal infos %+v", infos)
	}
	next, err := c.r.ReadCommand()
	if err != nil || next.Name != "NOOP" {
		t.Fatalf("next command %+v %v", next, err)
	}
}

// TestAppendUnread: a handler that stops reading an APPEND (a failed
// store) leaves nothing of it to be read as commands.
func TestAppendUnread(t *testing.T) {
	in := "a APPEND INBOX {10+}\r\n0123456789 {8+}\r\nb NOOP\r\n\r\nc NOOP\r\n"
	c := newConn(in, Limits{})
	cmd, err := c.r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(cmd.Args.(*Append).Message, buf); err != nil {
		t.Fatal(err)
	}
	next, err := c.r.ReadCommand()
	if err != nil || next.Tag != "c" {
		t.Fatalf("next command %+v %v, want tag c", next, err)
	}
}

// TestLiteralMatrix: synchronizing, non-synchronizing and binary literals,
// refused or accepted, in a command that parses or fails; each time the
// next command must be read as the client sent it.
func TestLiteralMatrix(t *testing.T) {
	refuse := errors.New("over quota")
	tests := []struct {
		name     string
		in       string // followed by "z NOOP\r\n"
		refuse   bool
		wantKind Kind // -1: no error
		wantCode string
		conts    int
	}{
		{"sync accepted", "a LOGIN {3}\r\njoe pw\r\n", false, -1, "", 1},
		{"non-sync accepted", "a LOGIN {3+}\r\njoe pw\r\n", false, -1, "", 0},
		{"LITERAL- form", "a LOGIN {3-}\r\njoe pw\r\n", false, -1, "", 0},
		{"sync refused", "a LOGIN {3}\r\n", true, KindRefused, "", 0},
		{"non-sync refused: data discarded", "a LOGIN {3+}\r\njoe pw\r\n", true, KindRefused, "", 0},
		{"append sync refused", "a APPEND INBOX {100}\r\n", true, KindRefused, "", 0},
		{"append non-sync refused", "a APPEND INBOX {5+}\r\nz BAD\r\n", true, KindRefused, "", 0},
		{"multiappend second refused", "a APPEND INBOX {1+}\r\nx {5+}\r\nz BAD {4+}\r\nlogo\r\n", true, KindRefused, "", 0},
		{"literal8 outside APPEND", "a LOGIN ~{3}\r\n", false, KindSyntax, "", 0},
		{"parse failure after a non-sync literal", "a LOGIN {6+}\r\nz NOOP x {9+}\r\nz LOGOUT\r\n", false, KindSyntax, "", 0},
		{"parse failure before a non-sync literal", "a FETCH 1 (BADITEM {8+}\r\nz NOOP\r\n)\r\n", false, KindSyntax, "", 0},
		{"parse failure before a sync literal", "a FETCH x {7}\r\n", false, KindSyntax, "", 0},
		{"unknown command with a non-sync literal", "a XYZZY {6+}\r\nz NOOP\r\n", false, KindUnknown, "", 0},
		{"argument literal over the cap, sync", "a LOGIN {70000}\r\n", false, KindSyntax, "TOOBIG", 0},
		{"NUL in a literal", "a LOGIN {3+}\r\nj\x00e pw\r\n", false, KindSyntax, "", 0},
		{"bad APPEND date after a literal", "a APPEND INBOX {1+}\r\nx \"junk\" {6+}\r\nz NOOP\r\n", false, KindSyntax, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConn(tt.in+"z NOOP\r\n", Limits{})
			if tt.refuse {
				c.r.Literal = func(i LiteralInfo) error {
					if i.Message && i.Size == 1 {
						return nil // the first message of the multiappend
					}
					return refuse
				}
			}
			cmd, err := c.r.ReadCommand()
			if err == nil && cmd.Name == "APPEND" {
				m := cmd.Args.(*Append).Message
				for m != nil && err == nil {
					m, err = c.r.NextMessage()
				}
			}
			switch {
			case tt.wantKind == -1 && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantKind != -1:
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T), want an *Error", err, err)
				}
				if e.Kind != tt.wantKind || e.Code != tt.wantCode || e.Tag != "a" {
					t.Fatalf("error %+v, want kind %d code %q tag a", e, tt.wantKind, tt.wantCode)
				}
				if tt.refuse && !errors.Is(err, refuse) {
					t.Errorf("error %v does not wrap the refusal", err)
				}
			}
			if c.conts != tt.conts {
				t.Errorf("%d continuation requests, want %d", c.conts, tt.conts)
			}
			next, err := c.r.ReadCommand()
			if err != nil || next.Tag != "z" || next.Name != "NOOP" {
				t.Fatalf("next command %+v %v, want z NOOP", next, err)
			}
			if _, err := c.r.ReadCommand(); err != io.EOF {
				t.Fatalf("after the last command: %v, want EOF", err)
			}
		})
	}
}

// TestFatal: what cannot be skipped ends the connection.
func TestFatal(t *testing.T) {
	lim := Limits{Line: 100, Literal: 10, Message: 1000}
	tests := []struct {
		name, in string
		cause    error
	}{
		{"long line", "a LOGIN " + strings.Repeat("x", 200) + "\r\n", ErrLineTooLong},
		{"long line without end", strings.Repeat("x", 5000), ErrLineTooLong},
		{"non-sync literal over every cap", "a LOGIN {1001+}\r\n", ErrLiteralTooBig},
		{"non-sync message over the cap", "a APPEND INBOX {1001+}\r\n", ErrLiteralTooBig},
		{"unknown command with a huge literal", "a XYZ {99999999+}\r\n", ErrLiteralTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newConn(tt.in, lim).r.ReadCommand()
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindFatal || !errors.Is(err, tt.cause) {
				t.Fatalf("error %v, want fatal %v", err, tt.cause)
			}
		})
	}
}

// TestInvalid: input against the grammar gets KindSyntax with the tag (or
// KindUnknown), and the next command is read normally.
func TestInvalid(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		tag  string
	}{
		{"a", KindSyntax, "a"},
		{"+ NOOP", KindSyntax, ""},
		{"a XYZZY", KindUnknown, "a"},
		{"a UID NOOP", KindUnknown, "a"},
		{"a NOOP extra", KindSyntax, "a"},
		{"a LOGIN joe", KindSyntax, "a"},
		{"a LOGIN joe pw extra", KindSyntax, "a"},
		{"a LOGIN \"jo\x00e\" pw", KindSyntax, "a"},
		{"a LOGIN jo\x00e pw", KindSyntax, "a"},
		{`a LOGIN "joe pw`, KindSyntax, "a"},
		{`a LOGIN "j\oe" pw`, KindSyntax, "a"},
		{"a AUTHENTICATE PLAIN !!!", KindSyntax, "a"},
		{"a AUTHENTICATE PLAIN ", KindSyntax, "a"},
		{"a SELECT", KindSyntax, "a"},
		{"a SELECT INBOX (BOGUS)", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (0 1))", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (1 0))", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (1 9223372036854775808))", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (1 2 1:*))", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (1 2 1:9 (1:3 4,5)))", KindSyntax, "a"},   // 3 sequence numbers, 2 UIDs
		{"a SELECT INBOX (QRESYNC (1 2 1:9 (1,3 9,4)))", KindSyntax, "a"},   // UIDs not ascending
		{"a SELECT INBOX (QRESYNC (1 2 1:9 (2:4,3 5:8)))", KindSyntax, "a"}, // overlapping
		{"a SELECT INBOX (QRESYNC (1 2 1:9 (1:* 1:9)))", KindSyntax, "a"},
		{"a SELECT INBOX (QRESYNC (1 2 1:9 (1 $)))", KindSyntax, "a"},
		{"a CREATE x (USE (Sent))", KindSyntax, "a"},
		{"a LIST \"\"", KindSyntax, "a"},
		{"a LIST \"\" % RETURN", KindSyntax, "a"},
		{"a LIST \"\" ()", KindSyntax, "a"},
		{"a LIST (RECURSIVEMATCH) \"\" %", KindSyntax, "a"},
		{"a STATUS INBOX ()", KindSyntax, "a"},
		{"a STATUS INBOX MESSAGES", KindSyntax, "a"},
		{"a FETCH 0 FLAGS", KindSyntax, "a"},
		{"a FETCH 1:x FLAGS", KindSyntax, "a"},
		{"a FETCH 4294967296 FLAGS", KindSyntax, "a"},
		{"a FETCH 1 BOGUS", KindSyntax, "a"},
		{"a FETCH 1 ()", KindSyntax, "a"},
		{"a FETCH 1 (FLAGS", KindSyntax, "a"},
		{"a FETCH 1 BODY[1.]", KindSyntax, "a"},
		{"a FETCH 1 BODY[MIME]", KindSyntax, "a"},
		{"a FETCH 1 BODY[HEADER.FIELDS ()]", KindSyntax, "a"},
		{"a FETCH 1 BODY[HEADER.FIELDS (a:b)]", KindSyntax, "a"},
		{"a FETCH 1 BODY[]<0.0>", KindSyntax, "a"},
		{"a FETCH 1 BODY[]<5>", KindSyntax, "a"},
		{"a FETCH 1 BINARY[TEXT]", KindSyntax, "a"},
		{"a FETCH 1 FLAGS (VANISHED)", KindSyntax, "a"},
		{"a UID FETCH 1 FLAGS (VANISHED)", KindSyntax, "a"},
		{"a FETCH 1 FLAGS (CHANGEDSINCE 0)", KindSyntax, "a"},
		{"a STORE 1 FLAGS", KindSyntax, "a"},
		{"a STORE 1 XFLAGS (\\Seen)", KindSyntax, "a"},
		{"a STORE 1 (UNCHANGEDSINCE x) FLAGS ()", KindSyntax, "a"},
		{"a SEARCH", KindSyntax, "a"},
		{"a SEARCH BOGUS", KindSyntax, "a"},
		{"a SEARCH OR SEEN", KindSyntax, "a"},
		{"a SEARCH SINCE 31-Feb-2024", KindSyntax, "a"},
		{"a SEARCH SINCE 1-Foo-2024", KindSyntax, "a"},
		{"a SEARCH RETURN (BOGUS) ALL", KindSyntax, "a"},
		{"a SEARCH RETURN (PARTIAL) ALL", KindSyntax, "a"},
		{"a SEARCH RETURN (PARTIAL 0:5) ALL", KindSyntax, "a"},
		{"a SEARCH RETURN (PARTIAL 1:*) ALL", KindSyntax, "a"},
		{"a SEARCH RETURN (PARTIAL 5) ALL", KindSyntax, "a"},
		{"a CANCELUPDATE", KindSyntax, "a"},
		{"a CANCELUPDATE b1", KindSyntax, "a"},
		{"a SEARCH (SEEN", KindSyntax, "a"},
		{"a SEARCH ()", KindSyntax, "a"},
		{"a SORT (DATE) ALL", KindSyntax, "a"},
		{"a SORT (BOGUS) UTF-8 ALL", KindSyntax, "a"},
		{"a THREAD REFERENCES", KindSyntax, "a"},
		{"a APPEND INBOX", KindSyntax, "a"},
		{"a APPEND INBOX (\\Seen)", KindSyntax, "a"},
		{"a APPEND INBOX {3} extra", KindSyntax, "a"},
		{"a APPEND INBOX \"7-Feb-1994 25:00:00 +0000\" {3}", KindSyntax, "a"},
		{"a ID (\"a\")", KindSyntax, "a"},
		{"a ENABLE", KindSyntax, "a"},
		{"a SETQUOTA \"\" (STORAGE)", KindSyntax, "a"},
		{"a COPY 1", KindSyntax, "a"},
		{"a UID EXPUNGE", KindSyntax, "a"},
		{"a SEARCH " + strings.Repeat("(", 40) + "ALL" + strings.Repeat(")", 40), KindSyntax, "a"},
		{"a SEARCH " + strings.Repeat("NOT ", 40) + "ALL", KindSyntax, "a"},
	}
	for _, tt := range tests {
		t.Run(strings.ToValidUTF8(tt.in, "?"), func(t *testing.T) {
			c := newConn(tt.in+"\r\nz NOOP\r\n", Limits{})
			_, err := c.r.ReadCommand()
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Tag != tt.tag {
				t.Fatalf("error %#v, want kind %d tag %q", err, tt.kind, tt.tag)
			}
			next, err := c.r.ReadCommand()
			if err != nil || next.Tag != "z" {
				t.Fatalf("next command %+v %v", next, err)
			}
		})
	}
}

// TestCaps: a literal over its cap is refused before anything is
// allocated for it, and the depth cap holds for search keys and lists.
func TestCaps(t *testing.T) {
	lim := Limits{Literal: 16, Command: 40, Depth: 4}
	for _, in := range []string{
		"a LOGIN {17}\r\n", // over Literal
		"a LOGIN {16+}\r\n0123456789abcdef {16+}\r\n0123456789abcdef\r\n" + // over Command with two
			"",
		"a SEARCH ((((ALL))))\r\n", // over Depth
	} {
		c := newConn(in+"z NOOP\r\n", lim)
		_, err := c.r.ReadCommand()
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindSyntax {
			t.Errorf("%q: error %v, want syntax", in, err)
		}
		if next, err := c.r.ReadCommand(); err != nil || next.Tag != "z" {
			t.Errorf("%q: next command %+v %v", in, next, err)
		}
	}
	allocs := testing.AllocsPerRun(10, func() {
		c := newConn("a LOGIN {999999999}\r\n", Limits{})
		c.r.ReadCommand()
	})
	// A reader, its line and the error: nothing the size of the literal.
	if allocs > 20 {
		t.Errorf("%v allocations to refuse a large literal", allocs)
	}
}

// TestReadLine: SASL responses and DONE are read as lines.
func TestReadLine(t *testing.T) {
	c := newConn("AGpvZQBwdw==\r\n*\r\nDONE\r\n", Limits{})
	l, _ := c.r.ReadLine()
	if b, err := DecodeSASL(l); err != nil || string(b) != "\x00joe\x00pw" {
		t.Errorf("SASL %q %v", b, err)
	}
	l, _ = c.r.ReadLine()
	if _, err := DecodeSASL(l); err != ErrSASLCancel {
		t.Errorf("cancel: %v", err)
	}
	if l, err := c.r.ReadLine(); l != "DONE" || err != nil {
		t.Errorf("DONE: %q %v", l, err)
	}
}

// TestNoAllocationBeyondCaps: sizes announced by the client are checked
// before anything is allocated for them. The test counts every byte the
// reader allocates for hostile commands; none may come near the sizes
// they announce.
func TestNoAllocationBeyondCaps(t *testing.T) {
	inputs := []string{
		"a LOGIN {4000000000}\r\n",
		"a LOGIN {4000000000+}\r\n",
		"a APPEND INBOX {4000000000}\r\n",
		"a APPEND INBOX ~{4000000000+}\r\n",
		"a XYZZY {4000000000+}\r\n",
		"a SEARCH " + strings.Repeat("(", 10000) + "\r\n",
		"a SEARCH " + strings.Repeat("NOT ", 10000) + "ALL\r\n",
		"a FETCH " + strings.Repeat("1,", 30000) + "1 FLAGS\r\n",
		strings.Repeat("x", 1<<20),
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, in := range inputs {
		c := newConn(in, Limits{})
		c.r.ReadCommand()
	}
	runtime.ReadMemStats(&after)
	// The line cap (64 KiB) and the sequence set of 30,000 numbers are the
	// largest things held.
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("%d bytes allocated", n)
	}
}

// TestAppendUnreadOverBudget: what is skipped of an answered APPEND is
// not reported as a syntax error of its own, even over the command cap.
func TestAppendUnreadOverBudget(t *testing.T) {
	in := "a APPEND INBOX {3+}\r\nabc " + strings.Repeat("x", 100) + "\r\nz NOOP\r\n"
	c := newConn(in, Limits{Command: 64})
	if _, err := c.r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	next, err := c.r.ReadCommand()
	if err != nil || next.Tag != "z" {
		t.Fatalf("next command %+v %v, want z NOOP", next, err)
	}
}

// TestIdleMemory: after a long command and a large response, what a
// connection keeps between commands is back to its small buffers.
func TestIdleMemory(t *testing.T) {
	c := newConn("a LOGIN "+strings.Repeat("x", 60000)+" pw\r\nb NOOP\r\n", Limits{})
	c.r.ReadCommand()
	c.r.ReadCommand()
	if n := cap(c.r.line); n > keepLine {
		t.Errorf("line buffer of %d bytes kept", n)
	}
	w := NewWriter(io.Discard)
	w.Start().String(strings.Repeat("x", 900)).End()
	for range 15 {
		w.Start().Atom(strings.Repeat("y", 900)).End()
	}
	w.Flush()
	if n := cap(w.buf); n > keepBuf {
		t.Errorf("write buffer of %d bytes kept", n)
	}
}

// TestLiteralMinus: with LITERAL- a non-synchronizing literal over 4096
// bytes is answered BAD [TOOBIG] and its data is not read as commands.
func TestLiteralMinus(t *testing.T) {
	big := strings.Repeat("z NOOP\r\n", 600) // 4800 bytes of would-be commands
	for _, in := range []string{
		"a LOGIN {4800+}\r\n" + big + " pw\r\n",
		"a APPEND INBOX {4800+}\r\n" + big + "\r\n",
	} {
		c := newConn(in+"b NOOP\r\n", Limits{NonSync: 4096})
		_, err := c.r.ReadCommand()
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindSyntax || e.Code != "TOOBIG" {
			t.Fatalf("error %v, want BAD [TOOBIG]", err)
		}
		if next, err := c.r.ReadCommand(); err != nil || next.Tag != "b" {
			t.Fatalf("next command %+v %v, want b NOOP", next, err)
		}
	}
	c := newConn("a LOGIN {4096+}\r\n"+strings.Repeat("x", 4096)+" pw\r\n", Limits{NonSync: 4096})
	if _, err := c.r.ReadCommand(); err != nil {
		t.Fatalf("literal at the limit: %v", err)
	}
}
