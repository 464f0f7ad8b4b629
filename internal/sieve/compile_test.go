package sieve

import (
	"errors"
	"strings"
	"testing"
)

// TestCompileErrors checks that bad scripts are refused with the line and
// column of the fault.
func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown command", "keep;\n  frobnicate;", "line 2 column 3: unknown command frobnicate"},
		{"missing semicolon", "keep \"a\"\n}", "line 2 column 1: expected ';' or '{'"},
		{"fileinto without require", `fileinto "x";`, `fileinto needs require "fileinto"`},
		{"unknown extension", `require "frob";`, `unsupported extension "frob"`},
		{"require late", "keep;\nrequire \"fileinto\";", "line 2 column 1: require must come before"},
		{"else without if", `else { keep; }`, "else without a preceding if"},
		{"elsif after keep", `if true { keep; } keep; elsif true { keep; }`, "elsif without a preceding if"},
		{"if without block", `if true;`, "if needs a block"},
		{"if without test", `if { keep; }`, "if needs exactly one test"},
		{"unterminated string", "fileinto \"abc", "line 1 column 10: unterminated string"},
		{"unterminated comment", "keep; /* ...", "unterminated comment"},
		{"unterminated text", "require \"vacation\"; vacation text:\r\nabc\r\n", "unterminated text: string"},
		{"bad tag", `if header :bogus "a" "b" { keep; }`, "header does not take :bogus"},
		{"two match types", `if header :is :contains "a" "b" { keep; }`, "only one of"},
		{"size needs tag", `if size 10 { keep; }`, "size needs :over or :under"},
		{"wrong arg count", `if header "a" { keep; }`, "header takes 2 arguments, not 1"},
		{"string where list", `require "fileinto"; fileinto ["a","b"];`, "must be a string"},
		{"unknown comparator", `if header :comparator "i;frob" "a" "b" { keep; }`, `unknown comparator "i;frob"`},
		{"numeric needs require", `if header :comparator "i;ascii-numeric" "a" "b" { keep; }`, "needs require"},
		{"numeric contains", `require "comparator-i;ascii-numeric"; if header :contains :comparator "i;ascii-numeric" "a" "b" { keep; }`, "cannot do substring"},
		{"relational needs require", `if header :count "eq" "a" "1" { keep; }`, `:count needs require "relational"`},
		{"bad relation", `require "relational"; if header :value "xx" "a" "1" { keep; }`, "unknown relational operator"},
		{"copy needs require", `redirect :copy "a@b.c";`, `:copy needs require "copy"`},
		{"bad variable name", `require "variables"; set "1a" "b";`, "invalid variable name"},
		{"envelope part", `require "envelope"; if envelope "subject" "x" { keep; }`, "envelope part"},
		{"unexpected brace", `}`, "unexpected '}'"},
		{"bad character", `keep; @`, "unexpected character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.src, Limits{})
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *sieve.Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestCompileLimits checks the size and nesting limits.
func TestCompileLimits(t *testing.T) {
	if _, err := Compile(strings.Repeat("keep;", 100), Limits{MaxScriptSize: 100}); err == nil {
		t.Error("script over the size limit compiled")
	}
	deep := strings.Repeat("if true {", 40) + strings.Repeat("}", 40)
	if _, err := Compile(deep, Limits{}); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("deep blocks: %v", err)
	}
	deepTest := "if " + strings.Repeat("not ", 40) + "true { keep; }"
	if _, err := Compile(deepTest, Limits{}); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("deep tests: %v", err)
	}
	if _, err := Compile(strings.Repeat("if true {", 30)+strings.Repeat("}", 30), Limits{}); err != nil {
		t.Errorf("nesting under the limit: %v", err)
	}
}

// TestRunErrors checks the run-time limits and conflicts: each is an
// error, so the caller keeps the message.
func TestRunErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
		limits          Limits
	}{
		{"instructions", strings.Repeat("if true { keep; }\n", 50), "instructions", Limits{MaxInstructions: 20}},
		{"redirects", `redirect "a@example.org"; redirect "b@example.org"; redirect "c@example.org";`, "redirects", Limits{MaxRedirects: 2}},
		{"actions", `require "fileinto"; fileinto "a"; fileinto "b"; fileinto "c";`, "actions", Limits{MaxActions: 2}},
		{"bad redirect", `require "variables"; set "a" "not an address"; redirect "${a}";`, "invalid address", Limits{}},
		{"reject and keep", `require "reject"; reject "no"; keep;`, "reject cannot", Limits{}},
		{"two rejects", `require "reject"; reject "no"; reject "never";`, "reject cannot", Limits{}},
		{"two vacations", `require "vacation"; vacation "a"; vacation "b";`, "more than one vacation", Limits{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile(c.src, c.limits)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(testMessage()); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestVariableSizeLimit checks that a variable cannot grow past the limit
// by doubling itself.
func TestVariableSizeLimit(t *testing.T) {
	src := `require "variables"; set "a" "0123456789";` + strings.Repeat(`set "a" "${a}${a}";`, 30) +
		`set :length "n" "${a}"; if string :is "${n}" "100" { discard; }`
	s, err := Compile(src, Limits{MaxVariableSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(testMessage())
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(res); got != "discard" {
		t.Errorf("variable not clipped to 100 bytes: %s", got)
	}
}
