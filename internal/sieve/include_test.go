package sieve

import (
	"strings"
	"testing"
)

// TestInclude runs include, return and global (RFC 6609) over a set of
// personal scripts, modelled on the RFC's section 3 examples.
func TestInclude(t *testing.T) {
	personal := map[string]string{
		"spam_tests": `require ["fileinto","include"];
if header :contains "x-spam" "yes" { fileinto "Spam"; stop; }
return;
fileinto "never";`,
		"vars": `require ["variables","include"]; global "test"; set "test" "${test}+";`,
		"flag": `require ["imap4flags","include"]; addflag "\\Seen";`,
		"loop": `require "include"; include "loop";`,
		"bad":  `frob;`,
	}
	msg := testMessage()
	msg.Include = func(global bool, name string) (string, error) {
		if src, ok := personal[name]; ok && !global {
			return src, nil
		}
		return "", ErrNoScript
	}
	cases := []struct {
		name, src, want string
	}{
		{"return continues the including script", `require ["include","fileinto"]; include "spam_tests"; fileinto "After";`, "fileinto:After"},
		{"rfc6609 3.4 global", `require ["include","variables","fileinto"];
global "test";
set "test" "x";
include "vars";
include "vars";
include :once "vars";
include :once "vars";
fileinto "${test}";`, "fileinto:x++"}, // :once: already included
		{"global namespace", `require ["include","variables","fileinto"]; include "vars"; fileinto "${global.test}";`, "fileinto:+"},
		{"flags are shared", `require ["include"]; include :personal "flag";`, `keep[\Seen]`},
		{"optional missing", `require ["include"]; include :optional "nope"; discard;`, "discard"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(mustRun(t, c.src, msg)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	spam := testMessage()
	spam.Include = msg.Include
	spam.Header = append(spam.Header, Field{"X-Spam", "yes"})
	if got := summary(mustRun(t, `require ["include","fileinto"]; include "spam_tests"; fileinto "After";`, spam)); got != "fileinto:Spam" {
		t.Errorf("stop in an included script: %q", got)
	}
	for _, c := range []struct{ src, want string }{
		{`require "include"; include "nope";`, "no such script"},
		{`require "include"; include :global "spam_tests";`, "no such script"},
		{`require "include"; include "loop";`, "nested"},
		{`require "include"; include "bad";`, "unknown command"},
	} {
		s, err := Compile(c.src, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Run(msg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.src, err, c.want)
		}
	}
	if _, err := Compile(`require "include"; global "x";`, Limits{}); err == nil {
		t.Error("global without variables compiled")
	}
}
