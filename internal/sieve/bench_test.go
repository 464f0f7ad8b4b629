package sieve

import (
	"fmt"
	"strings"
	"testing"
)

// rules30 is a script of 30 rules in the style filter editors write.
func rules30() string {
	var b strings.Builder
	b.WriteString(`require ["fileinto","imap4flags","variables","envelope","body"];` + "\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "if header :contains \"subject\" \"topic%d\" { fileinto \"Topic%d\"; stop; }\n", i, i)
		fmt.Fprintf(&b, "if address :domain :is \"from\" \"sender%d.example\" { addflag \"$Label%d\"; }\n", i, i)
		fmt.Fprintf(&b, "if anyof (header :matches \"list-id\" \"*<list%d.*\", envelope :localpart \"to\" \"x%d\") { fileinto \"Lists.${1}\"; }\n", i, i)
	}
	return b.String()
}

// BenchmarkRun30Rules measures the interpreter's time per message for a
// 30-rule script.
func BenchmarkRun30Rules(b *testing.B) {
	s, err := Compile(rules30(), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	msg := testMessage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile30Rules measures compiling the same script.
func BenchmarkCompile30Rules(b *testing.B) {
	src := rules30()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(src, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
