package searchtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Words of the benchmark corpus: RareWord is in one message of 2,500,
// CommonWord in about half of them.
const (
	RareWord   = "zanzibar"
	CommonWord = "meeting"
)

// Corpus returns message i of a generated mailbox: a multipart/alternative
// of about 2 KB of plain text and the same text as HTML, words drawn from
// a vocabulary of 2,000 made-up words and some English ones.
func Corpus(i int) string {
	rng := rand.New(rand.NewPCG(uint64(i), 9051))
	vocab := func() string {
		n := rng.IntN(2000)
		return fmt.Sprintf("%c%c%c%d", 'b'+n%19, 'a'+n/19%5, 'k'+n/95%14, n%7)
	}
	english := []string{"the", "and", "of", "to", "report", "please", "thanks", "budget", "today"}
	var text strings.Builder
	for text.Len() < 2000 {
		if rng.IntN(3) == 0 {
			text.WriteString(english[rng.IntN(len(english))])
		} else {
			text.WriteString(vocab())
		}
		text.WriteByte(" \n"[min(rng.IntN(12), 1)^1])
	}
	if i%2 == 0 {
		text.WriteString(" the " + CommonWord + " is moved\n")
	}
	if i%2500 == 7 {
		text.WriteString(" a trip to " + RareWord + "\n")
	}
	body := strings.ReplaceAll(text.String(), "\n", "\r\n")
	return fmt.Sprintf("From: Sender %d <s%d@example.net>\r\nTo: alice@example.org\r\nSubject: %s %s\r\n"+
		"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\nMessage-ID: <c%d@example.net>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/alternative; boundary=alt\r\n\r\n"+
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"+
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>%s</p></body></html>\r\n--alt--\r\n",
		i, i, vocab(), vocab(), i, body, strings.ReplaceAll(body, "\r\n", "<br>\r\n"))
}
