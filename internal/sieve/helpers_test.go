package sieve

import (
	"strings"
	"testing"
)

// testMessage is the message of RFC 5228's examples, with a list header
// and a subaddressed recipient.
func testMessage() *Message {
	return &Message{
		Header: []Field{
			{"Date", "Tue, 1 Apr 1997 09:06:31 -0800 (PST)"},
			{"From", "coyote@desert.example.org"},
			{"To", "roadrunner@acme.example.com"},
			{"Subject", "I have a present for you"},
			{"X-Caffeine", "C8H10N4O2"},
		},
		From: "coyote@desert.example.org",
		To:   "roadrunner+road@acme.example.com",
		Size: 300,
		Body: "Look, I'm sorry about the whole anvil thing, and I really\r\ndidn't mean to try and drop it on you from the top of the\r\ncliff.\r\n",
	}
}

func mustRun(t *testing.T, src string, msg *Message) *Result {
	t.Helper()
	s, err := Compile(src, Limits{})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	res, err := s.Run(msg)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, src)
	}
	return res
}

// summary writes the actions as short text, e.g. "fileinto:Junk[\Seen] keep".
func summary(res *Result) string {
	var out []string
	for _, a := range res.Actions {
		var s string
		switch a.Kind {
		case Keep:
			s = "keep"
		case FileInto:
			s = "fileinto:" + a.Mailbox
		case Redirect:
			s = "redirect:" + a.Address
		case Reject:
			s = "reject:" + a.Reason
		case Vacation:
			s = "vacation:" + a.Vacation.Reason
		}
		if len(a.Flags) > 0 {
			s += "[" + strings.Join(a.Flags, " ") + "]"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "discard"
	}
	return strings.Join(out, " ")
}
