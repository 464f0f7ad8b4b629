package imapgw

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/search"
)

// TestSearchTextIndex: SEARCH BODY and TEXT over IMAP, alone and inside
// NOT and OR, answer what reading every message answers, on a mailbox
// where some messages have no text in the index (delivered before it, or
// restored); only those are read, and a search over indexed messages
// reads no object.
func TestSearchTextIndex(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	rng := rand.New(rand.NewPCG(1, 23))
	words := []string{"Apfel", "birne", "ÉCOLE", "straße", "naïve", "日本語", "x", "fish&chips", "re:"}
	type msg struct {
		uid    uint32
		text   func(pattern string, head bool) bool
		noText bool
	}
	var msgs []msg
	for i := range 60 {
		var body strings.Builder
		for range 3 + rng.IntN(12) {
			body.WriteString(words[rng.IntN(len(words))] + " ")
		}
		raw := fmt.Sprintf("From: s%d@example.net\r\nSubject: %s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>\r\n",
			i, words[rng.IntN(len(words))], strings.ReplaceAll(body.String(), "&", "&amp;"))
		prefix := fmt.Sprintf("Delivered-To: alice+%d@example.org\r\n", i%3)
		env.noText = i%5 == 0
		uid := env.deliver(t, a, "INBOX", prefix, raw)
		st := search.ScanText([]byte(prefix), []byte(raw))
		msgs = append(msgs, msg{uid: uid, noText: env.noText, text: func(p string, head bool) bool {
			p = strings.ToLower(p)
			return strings.Contains(st.Body, p) || (head && strings.Contains(st.Head, p))
		}})
	}
	c := env.dial(t, a, nil)
	mustSelect(t, c, "INBOX", true)
	check := func(name string, crit imap.SearchCriteria, want func(m msg) bool) {
		t.Helper()
		var wantUIDs []imap.UID
		for _, m := range msgs {
			if want(m) {
				wantUIDs = append(wantUIDs, imap.UID(m.uid))
			}
		}
		before := env.blobs.Gets()
		data, err := c.UIDSearch(&crit, nil).Wait()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := data.AllUIDs()
		if !slices.Equal(got, wantUIDs) {
			t.Errorf("%s: %v, want %v", name, got, wantUIDs)
		}
		if reads := env.blobs.Gets() - before; reads > 12 {
			t.Errorf("%s: %d object reads, want at most the 12 messages without text", name, reads)
		}
	}
	for _, w := range append(words, "ap", "É", "alice+1", "s1@example", "chips") {
		check("BODY "+w, imap.SearchCriteria{Body: []string{w}}, func(m msg) bool { return m.text(w, false) })
		check("TEXT "+w, imap.SearchCriteria{Text: []string{w}}, func(m msg) bool { return m.text(w, true) })
		check("NOT BODY "+w, imap.SearchCriteria{Not: []imap.SearchCriteria{{Body: []string{w}}}},
			func(m msg) bool { return !m.text(w, false) })
	}
	check("OR BODY apfel TEXT birne", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Body: []string{"apfel"}}, {Text: []string{"birne"}}}}},
		func(m msg) bool { return m.text("apfel", false) || m.text("birne", true) })
	check("BODY apfel BODY naïve", imap.SearchCriteria{Body: []string{"apfel", "NAÏVE"}},
		func(m msg) bool { return m.text("apfel", false) && m.text("naïve", false) })

	// Once every message has its text, a search reads nothing.
	env2 := newEnv(t)
	for i := range 20 {
		env2.deliver(t, a, "INBOX", "", fmt.Sprintf("Subject: n%d\r\n\r\nneedle %d in hay\r\n", i, i))
	}
	c2 := env2.dial(t, a, nil)
	mustSelect(t, c2, "INBOX", true)
	before := env2.blobs.Gets()
	for _, crit := range []imap.SearchCriteria{{Body: []string{"needle 1"}}, {Text: []string{"N1"}}, {Body: []string{"1"}}, {Not: []imap.SearchCriteria{{Body: []string{"hay"}}}}} {
		if _, err := c2.UIDSearch(&crit, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if reads := env2.blobs.Gets() - before; reads != 0 {
		t.Errorf("searches of an indexed mailbox read %d objects", reads)
	}
}

// TestAppendIndexesText: an APPENDed message is searched from the index,
// with no object read, and COPY keeps it findable in the target.
func TestAppendIndexesText(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)
	raw := "Subject: =?iso-8859-1?q?R=E9sum=E9?=\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>Cr&egrave;me br=FBl=E9e</p>\r\n"
	raw = strings.ReplaceAll(raw, "br=FBl=E9e", "br\xfbl\xe9e")
	data := appendMsg(t, c, "INBOX", raw, nil)
	mustSelect(t, c, "INBOX", false)
	before := env.blobs.Gets()
	for _, crit := range []imap.SearchCriteria{{Body: []string{"CRÈME BRÛLÉE"}}, {Text: []string{"résumé"}}} {
		got, err := c.UIDSearch(&crit, nil).Wait()
		if err != nil || !slices.Equal(got.AllUIDs(), []imap.UID{data.UID}) {
			t.Errorf("%+v: %v, %v", crit, got.AllUIDs(), err)
		}
	}
	if _, err := c.Copy(imap.UIDSetNum(data.UID), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	mustSelect(t, c, "Archive", true)
	got, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{"crème"}}, nil).Wait()
	if err != nil || len(got.AllUIDs()) != 1 {
		t.Errorf("in Archive: %v, %v", got.AllUIDs(), err)
	}
	if reads := env.blobs.Gets() - before; reads != 0 {
		t.Errorf("%d object reads", reads)
	}
}
