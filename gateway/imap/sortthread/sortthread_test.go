package sortthread

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBaseSubject(t *testing.T) {
	for _, tc := range []struct {
		in, base string
		re       bool
	}{
		{"hello", "hello", false},
		{"Re: hello", "hello", true},
		{"RE:  Re: hello", "hello", true},
		{"re:re:re: hello", "hello", true},
		{"Fwd: hello (fwd)", "hello", true},
		{"hello (fwd) (FWD)  ", "hello", true},
		{"Fw: x", "x", true},
		{"[list] Re: hello", "hello", true}, // blobs before a refwd go with it
		{"[list] hello", "hello", false},    // step 4: a blob that leaves a base
		{"[list]", "[list]", false},         // ... and one that would not
		{"[a] [b]", "[b]", false},           // the last blob is the base
		{"Re: [list] hello", "hello", true}, // refwd, then a blob (step 5)
		{"re [x]: hello", "hello", true},    // subj-refwd with its own blob
		{"Re[2]: hi", "hi", true},           // the form some clients write
		{"[Fwd: Re: hello]", "hello", true}, // step 6 unwraps, then again from 2
		{"[fwd: [list] hi]", "hi", true},    // unwrapped, then the blob
		{"hello\t  world \r\n x", "hello world x", false},
		{"  spaces  ", "spaces", false},
		{"Re:", "", true},
		{"Rex: hello", "Rex: hello", false}, // "re" must be followed by ":"
		{"Re : hello", "hello", true},       // *WSP before ":"
		{"Réponse: x", "Réponse: x", false},
		{"[Fwd: unclosed", "[Fwd: unclosed", false},
		{"", "", false},
	} {
		base, re := BaseSubject(tc.in)
		if base != tc.base || re != tc.re {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", tc.in, base, re, tc.base, tc.re)
		}
	}
}

func TestCasemap(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"Hello", "hELLO", true},
		{"École", "ÉCOLE", true},
		{"e\u0301cole", "École", true}, // decomposed and precomposed
		{"Straße", "STRASSE", false},   // titlecase is per character: ß stays
		{"a", "b", false},
	} {
		if got := Casemap(tc.a) == Casemap(tc.b); got != tc.equal {
			t.Errorf("Casemap(%q) == Casemap(%q): %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
	if Casemap("apple") >= Casemap("Banana") {
		t.Error("apple does not sort before Banana")
	}
}

var day = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }

// sortCorpus: sequence numbers 1..7, in mailbox order.
func sortCorpus() []Message {
	return []Message{
		{ID: 1, Arrival: at(5), Sent: at(1), Size: 300, Subject: "Re: Budget",
			From: Address{"carol", "Carol"}, To: Address{"bob", "bob@example.org"}},
		{ID: 2, Arrival: at(2), Sent: at(3), Size: 100, Subject: "[team] agenda",
			From: Address{"Alice", "Alice Z"}, To: Address{"dave", "Dave"}, Cc: Address{"zed", "Zed"}},
		{ID: 3, Arrival: at(1), Size: 200, Subject: "budget", // no Date: the arrival stands in
			From: Address{"bob", "bob@example.org"}, To: Address{"alice", "Alice"}},
		{ID: 4, Arrival: at(4), Sent: at(3), Size: 100, Subject: "Fwd: Agenda (fwd)",
			From: Address{"alice", "alice"}, To: Address{"Carol", "carol"}, Cc: Address{"amy", "Amy"}},
		{ID: 5, Arrival: at(3), Sent: at(0), Size: 50, Subject: "Zebra",
			From: Address{"ÉMILE", "Émile"}, To: Address{}},
		{ID: 6, Arrival: at(6), Sent: at(6), Size: 300, Subject: "re: [x] zebra"},
		{ID: 7, Arrival: at(0), Sent: at(7), Size: 10, Subject: "",
			From: Address{"émile", "émile"}},
	}
}

func TestSort(t *testing.T) {
	msgs := sortCorpus()
	for _, tc := range []struct {
		name     string
		criteria []Criterion
		want     []uint32
	}{
		{"ARRIVAL", []Criterion{{Arrival, false}}, []uint32{7, 3, 2, 5, 4, 1, 6}},
		{"REVERSE ARRIVAL", []Criterion{{Arrival, true}}, []uint32{6, 1, 4, 5, 2, 3, 7}},
		// 3 has no Date: its arrival (1h) counts; 2 and 4 tie at 3h: by sequence.
		{"DATE", []Criterion{{Date, false}}, []uint32{5, 1, 3, 2, 4, 6, 7}},
		{"SIZE", []Criterion{{Size, false}}, []uint32{7, 5, 2, 4, 3, 1, 6}},
		// Base subjects: budget, agenda, budget, agenda, zebra, zebra, "".
		{"SUBJECT", []Criterion{{Subject, false}}, []uint32{7, 2, 4, 1, 3, 5, 6}},
		{"SUBJECT DATE", []Criterion{{Subject, false}, {Date, false}}, []uint32{7, 2, 4, 1, 3, 5, 6}},
		{"SUBJECT REVERSE DATE", []Criterion{{Subject, false}, {Date, true}}, []uint32{7, 2, 4, 1, 3, 6, 5}},
		// addr-mailbox, case-mapped: carol, alice, bob, alice, émile, "", émile.
		{"FROM", []Criterion{{From, false}}, []uint32{6, 2, 4, 3, 1, 5, 7}},
		{"FROM REVERSE SIZE", []Criterion{{From, false}, {Size, true}}, []uint32{6, 2, 4, 3, 1, 5, 7}},
		{"TO", []Criterion{{To, false}}, []uint32{5, 6, 7, 3, 1, 4, 2}},
		{"CC", []Criterion{{Cc, false}}, []uint32{1, 3, 5, 6, 7, 4, 2}},
		{"DISPLAYFROM", []Criterion{{DisplayFrom, false}}, []uint32{6, 4, 2, 3, 1, 5, 7}},
		{"DISPLAYTO", []Criterion{{DisplayTo, false}}, []uint32{5, 6, 7, 3, 1, 4, 2}},
		{"none", nil, []uint32{1, 2, 3, 4, 5, 6, 7}},
	} {
		if got := Sort(msgs, tc.criteria); !slices.Equal(got, tc.want) {
			t.Errorf("SORT (%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !slices.EqualFunc(msgs, sortCorpus(), func(a, b Message) bool { return a.ID == b.ID }) {
		t.Error("Sort reordered its input")
	}
}

// threadCorpus is a mailbox of ten messages with replies, a missing
// parent referred to twice, a missing parent referred to once, a reply
// found by subject only, and a duplicate Message-ID.
func threadCorpus() []Message {
	return []Message{
		{ID: 1, Sent: at(1), Subject: "Meeting", MessageID: "<a>"},
		{ID: 2, Sent: at(2), Subject: "Re: Meeting", MessageID: "<b>", References: []string{"<a>"}},
		{ID: 3, Sent: at(3), Subject: "Re: Re: Meeting", MessageID: "<c>", References: []string{"<a>", "<b>"}},
		{ID: 4, Sent: at(4), Subject: "Re: Meeting", MessageID: "<d>", References: []string{"<a>"}},
		{ID: 5, Sent: at(5), Subject: "Lunch", MessageID: "<e>"},
		{ID: 6, Sent: at(6), Subject: "Re: Budget", MessageID: "<f>", References: []string{"<gone>"}},
		{ID: 7, Sent: at(7), Subject: "RE: budget", MessageID: "<g>", References: []string{"<gone>"}},
		{ID: 8, Sent: at(8), Subject: "Re: [food] Lunch", MessageID: "<h>"},
		{ID: 9, Sent: at(0), Subject: "Solo", MessageID: "<i>", References: []string{"<z>"}},
		{ID: 10, Sent: at(10), Subject: "meeting", MessageID: "<a>"}, // duplicate Message-ID
	}
}

func TestThreadReferences(t *testing.T) {
	// By the steps of RFC 5256 section 3 (REFERENCES):
	// 1. links 1<-2<-3, 1<-4, <gone><-6,7, <z><-9; 10 gets an ID of its own.
	// 3. <z> (one child, at the root) is promoted; <gone> (two) stays.
	// 5. "lunch": 8 (a reply) goes under 5 (not one); "meeting": 1 and 10
	//    (neither a reply) go under a new dummy.
	// 4/6. by sent date: 9 (0h), the meeting dummy (1h), 5 (5h), <gone> (6h).
	want := "(9)((1 (2 3)(4))(10))(5 8)((6)(7))"
	if got := Format(References(threadCorpus())); got != want {
		t.Errorf("THREAD REFERENCES = %s\nwant                %s", got, want)
	}
}

func TestThreadOrderedSubject(t *testing.T) {
	// Groups by base subject (solo, meeting, lunch, budget), each by date;
	// the first message is the root, the others its children; groups by
	// their first message's date.
	want := "(9)(1 (2)(3)(4)(10))(5 8)(6 7)"
	if got := Format(OrderedSubject(threadCorpus())); got != want {
		t.Errorf("THREAD ORDEREDSUBJECT = %s\nwant                    %s", got, want)
	}
}

// keyed returns msgs with their Keys made and the fields they come from
// cleared, so that only the keys can order them.
func keyed(msgs []Message) []Message {
	for i := range msgs {
		msgs[i].Keys = MakeKeys(&msgs[i])
		msgs[i].Subject, msgs[i].From, msgs[i].To, msgs[i].Cc = "", Address{}, Address{}, Address{}
	}
	return msgs
}

// TestKeysKept: messages that carry their keys are ordered as those the
// keys are made for.
func TestKeysKept(t *testing.T) {
	plain, kept := sortCorpus(), keyed(sortCorpus())
	for _, k := range []Key{Arrival, Cc, Date, From, Size, Subject, To, DisplayFrom, DisplayTo} {
		for _, rev := range []bool{false, true} {
			c := []Criterion{{k, rev}, {Arrival, false}}
			if got, want := Sort(kept, c), Sort(plain, c); !slices.Equal(got, want) {
				t.Errorf("SORT %v with kept keys = %v, want %v", c, got, want)
			}
		}
	}
	threads := threadCorpus()
	for name, f := range map[string]func([]Message) []*Thread{"REFERENCES": References, "ORDEREDSUBJECT": OrderedSubject} {
		if got, want := Format(f(keyed(threadCorpus()))), Format(f(threads)); got != want {
			t.Errorf("THREAD %s with kept keys = %s, want %s", name, got, want)
		}
	}
}

func TestThreadReferencesEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs []Message
		want string
	}{
		{"loop", []Message{
			{ID: 1, Sent: at(1), Subject: "a", MessageID: "<a>", References: []string{"<b>"}},
			{ID: 2, Sent: at(2), Subject: "b", MessageID: "<b>", References: []string{"<a>"}},
		}, "(2 1)"},
		{"self", []Message{
			{ID: 1, Sent: at(1), Subject: "a", MessageID: "<a>", References: []string{"<a>"}},
		}, "(1)"},
		{"a parent, once set, is kept by later References", []Message{
			{ID: 1, Sent: at(1), Subject: "x", MessageID: "<a>"},
			{ID: 2, Sent: at(2), Subject: "y", MessageID: "<b>"},
			{ID: 3, Sent: at(3), Subject: "z", MessageID: "<c>", References: []string{"<a>"}},
			{ID: 4, Sent: at(4), Subject: "w", MessageID: "<d>", References: []string{"<b>", "<c>"}},
		}, "(1 3 4)(2)"},
		{"a message's own last reference replaces a parent from another's References", []Message{
			{ID: 1, Sent: at(1), Subject: "x", MessageID: "<a>"},
			{ID: 2, Sent: at(2), Subject: "y", MessageID: "<b>"},
			{ID: 3, Sent: at(3), Subject: "z", MessageID: "<c>", References: []string{"<a>", "<d>"}},
			{ID: 4, Sent: at(4), Subject: "w", MessageID: "<d>", References: []string{"<b>"}},
		}, "(1)(2 4 3)"},
		{"equal dates: mailbox order", []Message{
			{ID: 1, Sent: at(1), Subject: "p", MessageID: "<p>"},
			{ID: 2, Sent: at(1), Subject: "q", MessageID: "<q>"},
			{ID: 3, Sent: at(1), Subject: "Re: p", MessageID: "<r>", References: []string{"<p>"}},
			{ID: 4, Sent: at(1), Subject: "Re: p", MessageID: "<s>", References: []string{"<p>"}},
		}, "(1 (3)(4))(2)"},
		{"no Message-ID, no subject", []Message{
			{ID: 1, Sent: at(2)}, {ID: 2, Sent: at(1)},
		}, "(2)(1)"},
		{"missing Date: the arrival", []Message{
			{ID: 1, Sent: at(5), Arrival: at(5), Subject: "a", MessageID: "<a>"},
			{ID: 2, Arrival: at(1), Subject: "b", MessageID: "<b>"},
		}, "(2)(1)"},
		{"two dummies with one subject merge", []Message{
			{ID: 1, Sent: at(1), Subject: "Re: s", MessageID: "<1>", References: []string{"<x>"}},
			{ID: 2, Sent: at(2), Subject: "Re: s", MessageID: "<2>", References: []string{"<x>"}},
			{ID: 3, Sent: at(3), Subject: "Re: s", MessageID: "<3>", References: []string{"<y>"}},
			{ID: 4, Sent: at(4), Subject: "Re: s", MessageID: "<4>", References: []string{"<y>"}},
		}, "((1)(2)(3)(4))"},
	} {
		if got := Format(References(tc.msgs)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	n := func(id uint32, kids ...*Thread) *Thread { return &Thread{ID: id, Children: kids} }
	for _, tc := range []struct {
		threads []*Thread
		want    string
	}{
		{nil, ""},
		{[]*Thread{n(1)}, "(1)"},
		{[]*Thread{n(1, n(2, n(3)))}, "(1 2 3)"},
		{[]*Thread{n(1, n(2), n(3))}, "(1 (2)(3))"},
		{[]*Thread{n(1, n(2, n(3), n(4, n(5))))}, "(1 2 (3)(4 5))"},
		{[]*Thread{n(0, n(1), n(2))}, "((1)(2))"},
		{[]*Thread{n(0, n(1, n(2)), n(3)), n(4)}, "((1 2)(3))(4)"},
	} {
		if got := Format(tc.threads); got != tc.want {
			t.Errorf("Format = %s, want %s", got, tc.want)
		}
	}
}

// TestThreadKeepsEveryMessage: on random mailboxes (references among a
// small pool of IDs, missing parents, duplicates, loops, equal subjects),
// every message appears exactly once in either algorithm's answer, and a
// dummy always has at least two children (one would have been promoted
// at the root, spliced below it).
func TestThreadKeepsEveryMessage(t *testing.T) {
	subjects := []string{"a", "Re: a", "b", "Fwd: b", "[l] a", "", "c (fwd)"}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := 1 + r.IntN(40)
		msgs := make([]Message, n)
		for i := range msgs {
			m := &msgs[i]
			m.ID = uint32(i + 1)
			m.Sent = at(r.IntN(10))
			m.Subject = subjects[r.IntN(len(subjects))]
			if r.IntN(8) > 0 {
				m.MessageID = fmt.Sprintf("<%d>", r.IntN(n+5))
			}
			for range r.IntN(4) {
				m.References = append(m.References, fmt.Sprintf("<%d>", r.IntN(n+5)))
			}
		}
		for name, threads := range map[string][]*Thread{
			"REFERENCES": References(msgs), "ORDEREDSUBJECT": OrderedSubject(msgs),
		} {
			seen := map[uint32]int{}
			var walk func(ts []*Thread, root bool)
			walk = func(ts []*Thread, root bool) {
				for _, th := range ts {
					if th.ID == 0 && len(th.Children) < 2 {
						t.Fatalf("seed %d %s: a dummy with %d children: %s", seed, name, len(th.Children), Format(threads))
					}
					if th.ID == 0 && !root {
						t.Fatalf("seed %d %s: a dummy below the root: %s", seed, name, Format(threads))
					}
					seen[th.ID]++
					walk(th.Children, false)
				}
			}
			walk(threads, true)
			delete(seen, 0)
			if len(seen) != n {
				t.Fatalf("seed %d %s: %d of %d messages: %s", seed, name, len(seen), n, Format(threads))
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("seed %d %s: message %d appears %d times", seed, name, id, c)
				}
			}
		}
	}
}

func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [x] Fwd: y (fwd)", "[Fwd: [a] b]", "[", "[]", "re re: :", "\t\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := BaseSubject(s)
		if len(base) > len(s) {
			t.Fatalf("base %q longer than %q", base, s)
		}
		if again, _ := BaseSubject(base); again != base {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, base, again)
		}
	})
}

func BenchmarkSortThread(b *testing.B) {
	msgs := make([]Message, 10000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range msgs {
		msgs[i] = Message{
			ID: uint32(i + 1), Arrival: at(i), Sent: at(r.IntN(20000)), Size: int64(r.IntN(100000)),
			Subject:   fmt.Sprintf("Re: [list] topic %d", r.IntN(2000)),
			From:      Address{fmt.Sprintf("user%d", r.IntN(500)), "User"},
			MessageID: fmt.Sprintf("<%d@example.org>", i),
		}
		if i > 0 && r.IntN(2) == 0 {
			msgs[i].References = []string{fmt.Sprintf("<%d@example.org>", r.IntN(i))}
		}
	}
	kept := slices.Clone(msgs)
	for i := range kept {
		kept[i].Keys = MakeKeys(&kept[i])
	}
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"SORT_SUBJECT_kept_keys", func() { Sort(kept, []Criterion{{Subject, false}}) }},
		{"THREAD_REFERENCES_kept_keys", func() { References(kept) }},
		{"SORT_ARRIVAL", func() { Sort(msgs, []Criterion{{Arrival, false}}) }},
		{"SORT_DATE", func() { Sort(msgs, []Criterion{{Date, false}}) }},
		{"SORT_SUBJECT", func() { Sort(msgs, []Criterion{{Subject, false}}) }},
		{"SORT_FROM", func() { Sort(msgs, []Criterion{{From, false}}) }},
		{"THREAD_REFERENCES", func() { References(msgs) }},
		{"THREAD_ORDEREDSUBJECT", func() { OrderedSubject(msgs) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.run()
			}
		})
	}
}
