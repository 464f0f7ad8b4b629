package sieve

import "testing"

// FuzzCompile feeds the lexer, parser and validator arbitrary scripts:
// no panic, and a script that compiles also runs without one.
func FuzzCompile(f *testing.F) {
	seeds := []string{
		``, `keep;`, `require ["fileinto","variables"]; if header :matches "Subject" "[*] *" { fileinto "l.${1}"; }`,
		"require \"vacation\"; vacation text:\r\nx\r\n..\r\n.\r\n;", `if anyof (not size :over 1K, exists "x") { discard; stop; }`,
		`require ["imap4flags","relational","comparator-i;ascii-numeric"]; addflag "\\Seen"; if header :count "gt" :comparator "i;ascii-numeric" "to" "1" { keep :flags "a"; }`,
		"/* x */ # y\n", `if header :contains ["a","b"] ["c"] { redirect "a@b.c"; } elsif true {} else { stop; }`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Compile(src, Limits{MaxInstructions: 1000})
		if err != nil {
			return
		}
		_, _ = s.Run(testMessage())
	})
}
