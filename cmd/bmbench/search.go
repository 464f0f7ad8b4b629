package main

import (
	"fmt"
	"log/slog"
	"time"
)

// The search scenario looks for a word that one message in 1,000 of the
// sync mailbox has (seeded with it) and for one of the generator's words,
// which almost every message has.
const (
	rareWord   = "zanzibar"
	commonWord = "mail"
)

// rareMessage reports whether the i-th message seeded into the sync
// mailbox carries rareWord.
func rareMessage(i int) bool { return i%1000 == 500 }

// imapSearch times SEARCH BODY and SEARCH TEXT for the rare and the common
// word in the sync mailbox (what a client sends for "search the whole
// message" in an online folder), and checks the rare word's matches.
func imapSearch(cfg *config, res *results) error {
	param := fmt.Sprintf("%d messages", cfg.syncSize)
	wantRare := 0
	for i := range cfg.syncSize {
		if rareMessage(i) {
			wantRare++
		}
	}
	ic, err := dialIMAP(cfg.imap)
	if err != nil {
		return err
	}
	defer ic.Close()
	if err := ic.login(cfg.addr("sync"), cfg.password); err != nil {
		return err
	}
	if _, err := ic.cmd("SELECT INBOX"); err != nil {
		return err
	}
	for _, q := range []struct {
		key, word, label string
		want             int // -1: not checked
	}{
		{"BODY", rareWord, "BODY rare word", wantRare},
		{"TEXT", rareWord, "TEXT rare word", wantRare},
		{"BODY", commonWord, "BODY common word", -1},
		{"TEXT", commonWord, "TEXT common word", -1},
	} {
		matches := 0
		for run := range cfg.runs {
			t0 := time.Now()
			r, err := ic.cmd("SEARCH %s %s", q.key, q.word)
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if q.want >= 0 && r.searched != q.want {
				return fmt.Errorf("SEARCH %s %s: %d matches, want %d", q.key, q.word, r.searched, q.want)
			}
			matches = r.searched
			res.add("imap-search", param, q.label, "ms", "lower", ms(d))
			slog.Info("search", "target", cfg.target, "query", q.label, "run", run+1, "took", d.Round(time.Microsecond), "matches", matches)
		}
		// The same count on both sides shows as 1.00x.
		res.add("imap-search", param, q.label+", matches", "messages", "", float64(matches))
	}
	return nil
}
