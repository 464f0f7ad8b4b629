package imapgw

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// FuzzSearchProgram reads whatever the fuzzer sends as a SEARCH, SORT or
// THREAD command, compiles what parses and runs the program over a small
// mailbox. Nothing may panic; a program stays within the key and depth
// caps; the keys the index answers need no message read, so they run
// here without a store.
func FuzzSearchProgram(f *testing.F) {
	for _, s := range []string{
		"SEARCH ALL", "UID SEARCH RETURN (MIN MAX COUNT SAVE) 1:* UNSEEN",
		"SEARCH OR (FLAGGED SEEN) NOT (UID 2:* LARGER 10)", "SEARCH $ SEEN",
		`SEARCH MODSEQ "/flags/\\draft" all 620162338`, "SEARCH MODSEQ 18446744073709551615",
		"SEARCH OR NOT MODSEQ 720162338 LARGER 50000", "SEARCH UNSEEN YOUNGER 259200",
		"SEARCH OLDER 1 SAVEDSINCE 1-Jan-2000 SAVEDBEFORE 1-Jan-2030 SAVEDON 8-Dec-2026",
		"SEARCH SAVEDATESUPPORTED NEW OLD RECENT", "SEARCH KEYWORD $Work UNKEYWORD x ON 1-Feb-2024",
		"SORT (REVERSE DATE) UTF-8 YOUNGER 60 MODSEQ 1", "THREAD REFERENCES UTF-8 (SAVEDSINCE 1-Jan-2020)",
		"SEARCH CHARSET UTF-8 HEADER X-Y z FROM a SENTON 1-Jan-2024", "SEARCH EMAILID M1 THREADID T1",
		"SEARCH ((((((((SEEN))))))))", "SEARCH NOT NOT NOT NOT 1,3:*,7",
	} {
		f.Add("a " + s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := wire.NewReader(bufio.NewReader(bytes.NewReader([]byte(line+"\r\n"))), wire.Limits{Line: 4096}, func() error { return nil })
		cmd, err := r.ReadCommand()
		if err != nil {
			return
		}
		var key *wire.SearchKey
		switch a := cmd.Args.(type) {
		case *wire.Search:
			key = &a.Key
		case *wire.Sort:
			key = &a.Key
		case *wire.Thread:
			key = &a.Key
		default:
			return
		}
		sel := &selected{msgs: []viewMsg{{uid: 3}, {uid: 7}, {uid: 8}}, searchRes: []uint32{7}}
		c, err := sel.criteria(key)
		if err != nil {
			return
		}
		nodes := 0
		var depth func(n *searchNode) int
		depth = func(n *searchNode) int {
			nodes++
			d := 0
			for i := range n.kids {
				d = max(d, depth(&n.kids[i]))
			}
			return d + 1
		}
		if d := depth(c); d > maxSearchDepth+2 || nodes > 3*maxSearchKeys+1 {
			t.Fatalf("program of depth %d, %d nodes", d, nodes)
		}
		sel.staticCriteria(c)
		seenOnly(c)
		hasModSeq(c)
		if needsSummary(c, true) {
			return // reads the summary or the object: not without a store
		}
		s := &session{}
		now := time.Now()
		for i, v := range sel.msgs {
			m := &store.Message{UID: v.uid, ModSeq: uint64(i * 5), SaveDate: now, NewMessage: store.NewMessage{
				Size: int64(i * 100), InternalDate: now.Add(-time.Duration(i) * time.Hour), Flags: []string{store.FlagSeen}}}
			if _, err := s.match(&msgData{s: s, sel: sel, pos: i, m: m}, c, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
