package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// words make message bodies that look like text, so that nothing in the
// path (compression, parsers) sees an unusual input.
var words = strings.Fields(`the of and to in is that for it as was with be by on not he
this are or his from at which but have an they you were her she there been one all
would their we him if has when who will more no out so said what up its about into than
them can only other new some could time these two may then do first any my now such
like our over man me even most made after also did many before must through back years
where much your way well down should because each just those people how too little
state good very make world still own see men work long get here between both life being
under never day same another know while last might us great old year off come since
against go came right used take three mail server queue bucket object store message`)

// messageText returns a message of about size bytes with CRLF line ends;
// with multipart, a text/plain and text/html alternative.
func messageText(from, to, subject string, size int, multipart bool, rng *rand.Rand) []byte {
	var b strings.Builder
	b.Grow(size + 1024)
	id := fmt.Sprintf("%016x", rng.Uint64())
	fmt.Fprintf(&b, "From: Load Generator <%s>\r\nTo: <%s>\r\nSubject: %s\r\n", from, to, subject)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s@bench.example.net>\r\nMIME-Version: 1.0\r\n",
		time.Now().Format(time.RFC1123Z), id)
	body := func(n int) {
		line := 0
		for written := 0; written < n; {
			w := words[rng.IntN(len(words))]
			if line+len(w)+1 > 72 {
				b.WriteString("\r\n")
				written += 2
				line = 0
			} else if line > 0 {
				b.WriteByte(' ')
				written++
				line++
			}
			b.WriteString(w)
			written += len(w)
			line += len(w)
		}
		b.WriteString("\r\n")
	}
	if !multipart {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		body(size - b.Len())
		return []byte(b.String())
	}
	boundary := "b-" + id
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
	rest := size - b.Len() - 200
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary)
	body(rest / 2)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>", boundary)
	body(rest / 2)
	fmt.Fprintf(&b, "</p>\r\n--%s--\r\n", boundary)
	return []byte(b.String())
}

// withMarker puts word at the end of the last line of a single-part
// message's body, where SEARCH BODY and TEXT find it.
func withMarker(msg []byte, word string) []byte {
	body := msg[:len(msg)-2] // the final CRLF
	out := make([]byte, 0, len(msg)+len(word)+1)
	out = append(append(append(out, body...), ' '), word...)
	return append(out, '\r', '\n')
}
