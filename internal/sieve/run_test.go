package sieve

import "testing"

// TestRunExamples runs scripts taken from or modelled on the examples of
// RFC 5228 and of each extension's RFC, and checks the actions.
func TestRunExamples(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"empty script keeps", ``, "keep"},
		{"discard", `discard;`, "discard"},
		{"rfc5228 2.10.2 keep and fileinto", `require "fileinto"; fileinto "Friends"; keep;`, "fileinto:Friends keep"},
		{"fileinto twice files once", `require "fileinto"; fileinto "A"; fileinto "A";`, "fileinto:A"},
		{"rfc5228 3.1 if elsif else", `require "fileinto";
if header :contains "from" "coyote" {
   discard;
} elsif header :contains ["subject"] ["$$$"] {
   discard;
} else {
   fileinto "INBOX";
}`, "discard"},
		{"else branch", `require "fileinto";
if header :contains "from" "roadrunner" { discard; }
elsif header :is "subject" "nope" { discard; }
else { fileinto "Other"; }`, "fileinto:Other"},
		{"stop ends the script", `stop; discard;`, "keep"},
		{"address :domain", `if address :is :domain "from" "desert.example.org" { discard; }`, "discard"},
		{"address :localpart casemap", `if address :localpart "from" "COYOTE" { discard; }`, "discard"},
		{"address i;octet is exact", `if address :comparator "i;octet" :localpart "from" "COYOTE" { discard; }`, "keep"},
		{"header :matches", `if header :matches "subject" "I have * for ?ou" { discard; }`, "discard"},
		{"header :matches escape", `if header :matches "x-caffeine" "C8H10N4O\\*" { discard; }`, "keep"},
		{"exists all", `if exists ["From","Date"] { discard; }`, "discard"},
		{"exists one missing", `if exists ["From","X-Nope"] { discard; }`, "keep"},
		{"size over", `if size :over 100 { discard; }`, "discard"},
		{"size over K", `if size :over 1K { discard; }`, "keep"},
		{"size under", `if size :under 1M { discard; }`, "discard"},
		{"allof", `if allof (true, header :contains "subject" "present") { discard; }`, "discard"},
		{"allof false", `if allof (true, false) { discard; }`, "keep"},
		{"anyof", `if anyof (false, not false) { discard; }`, "discard"},
		{"rfc5228 8 real header", `if header :contains "X-Caffeine" "" { discard; }`, "discard"},
		{"envelope", `require "envelope"; if envelope :domain "to" "acme.example.com" { discard; }`, "discard"},
		{"envelope :all from", `require "envelope"; if envelope :all :is "from" "coyote@desert.example.org" { discard; }`, "discard"},
		{"subaddress detail", `require ["envelope","subaddress","fileinto"];
if envelope :detail "to" "road" { fileinto "Road"; }`, "fileinto:Road"},
		{"subaddress user", `require ["envelope","subaddress"]; if envelope :user "to" "roadrunner" { discard; }`, "discard"},
		{"subaddress no detail", `require ["subaddress"]; if address :detail :matches "from" "*" { discard; }`, "keep"},
		{"redirect cancels keep", `redirect "bob@example.org";`, "redirect:bob@example.org"},
		{"redirect :copy keeps", `require "copy"; redirect :copy "bob@example.org";`, "redirect:bob@example.org keep"},
		{"fileinto :copy keeps", `require ["copy","fileinto"]; fileinto :copy "Archive";`, "fileinto:Archive keep"},
		{"fileinto :create", `require ["mailbox","fileinto"]; fileinto :create "New";`, "fileinto:New"},
		{"reject", `require "reject"; reject "no thanks";`, "reject:no thanks"},
		{"ereject", `require "ereject"; ereject "no thanks";`, "reject:no thanks"},
		{"relational count", `require ["relational","comparator-i;ascii-numeric"];
if address :count "ge" :comparator "i;ascii-numeric" ["to","cc"] ["1"] { discard; }`, "discard"},
		{"relational value", `require "relational"; if header :value "gt" "subject" "H" { discard; }`, "discard"},
		{"relational numeric", `require ["relational","comparator-i;ascii-numeric"];
if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "3" { discard; }`, "keep"},
		{"imap4flags internal", `require ["imap4flags"]; addflag "\\Seen"; addflag ["\\Flagged", "\\seen"];`, `keep[\Seen \Flagged]`},
		{"imap4flags remove", `require ["imap4flags"]; setflag "\\Seen \\Flagged"; removeflag "\\seen";`, `keep[\Flagged]`},
		{"imap4flags :flags", `require ["imap4flags","fileinto"]; addflag "\\Seen"; fileinto :flags "\\Deleted" "Trash"; keep;`, `fileinto:Trash[\Deleted] keep[\Seen]`},
		{"imap4flags hasflag", `require ["imap4flags"]; addflag "$Work"; if hasflag :is "$work" { discard; }`, "discard"},
		{"imap4flags variable", `require ["imap4flags","variables"]; addflag "fl" "A"; addflag "fl" "B";
if hasflag "fl" "B" { setflag "${fl}"; }`, "keep[A B]"},
		{"variables rfc5229 match vars", `require ["fileinto","variables"];
if header :matches "Subject" "I have * for *" { fileinto "gift.${1}.${2}"; }`, "fileinto:gift.a present.you"},
		{"variables set modifiers", `require ["variables","fileinto"];
set :upperfirst "b" "hello"; set :length "n" "${b}"; set :lower :upperfirst "c" "WORLD";
fileinto "${b}-${n}-${c}";`, "fileinto:Hello-5-World"},
		{"variables quotewildcard", `require ["variables","fileinto"]; set :quotewildcard "q" "a*b?"; fileinto "${q}";`, `fileinto:a\*b\?`},
		{"variables unknown is empty", `require ["variables","fileinto"]; fileinto "x${nope}y";`, "fileinto:xy"},
		{"variables not required: literal", `require "fileinto"; fileinto "x${nope}y";`, "fileinto:x${nope}y"},
		{"string test", `require "variables"; set "a" "abc"; if string :is "${a}" "abc" { discard; }`, "discard"},
		{"string count nonempty", `require ["variables","relational"]; if string :count "eq" ["", "x"] "1" { discard; }`, "discard"},
		{"body contains", `require "body"; if body :contains "anvil" { discard; }`, "discard"},
		{"body content image", `require "body"; if body :content "image" :contains "anvil" { discard; }`, "keep"},
		{"vacation", `require "vacation"; vacation :days 3 "I'm away";`, "vacation:I'm away keep"},
		{"multiline text", "require \"vacation\"; vacation text:\r\nline one\r\n..dot\r\n.\r\n;", "vacation:line one\r\n.dot\r\n keep"},
		{"comments", "# hash\r\n/* bracket\r\n comment */ discard; # end", "discard"},
		{"rfc5228 2.4.2 escapes", `require "fileinto"; fileinto "a\"b\\c\q";`, `fileinto:a"b\cq`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(mustRun(t, c.src, testMessage())); got != c.want {
				t.Errorf("got %q, want %q\n%s", got, c.want, c.src)
			}
		})
	}
}

// TestHeaderDecoded checks that header tests see RFC 2047 decoded text.
func TestHeaderDecoded(t *testing.T) {
	msg := testMessage()
	msg.Header = append(msg.Header, Field{"Subject", "=?utf-8?q?caf=C3=A9?="})
	got := summary(mustRun(t, `if header :contains "subject" "café" { discard; }`, msg))
	if got != "discard" {
		t.Errorf("got %q", got)
	}
}

// TestMatchesShortestFirst checks RFC 5229 section 3.2's example: each
// "*" takes as little as it can.
func TestMatchesShortestFirst(t *testing.T) {
	msg := testMessage()
	msg.Header = []Field{{"Subject", "[acme-users] [fwd] version 1.0 is out"}, {"List-ID", "<acme-users@example.com>"}}
	src := `require ["fileinto","variables"];
if header :matches "Subject" "[*] *" { fileinto "lists.${1}.${2}"; }`
	if got, want := summary(mustRun(t, src, msg)), "fileinto:lists.acme-users.[fwd] version 1.0 is out"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	src = `require ["fileinto","variables"];
if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.${2}"; stop; }`
	if got, want := summary(mustRun(t, src, msg)), "fileinto:INBOX.lists.acme-users"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		s, p string
		ok   bool
	}{
		{"", "", true}, {"", "*", true}, {"a", "", false}, {"abc", "a*c", true},
		{"abc", "a?c", true}, {"abc", "a?", false}, {"ab*c", `ab\*c`, true}, {"abxc", `ab\*c`, false},
		{"aXbXc", "*x*x*", true}, {"é", "?", true}, {"abcabc", "*abc", true}, {"mississippi", "m*iss*ppi", true},
		{"mississippi", "m*iss*ppx", false},
	}
	for _, c := range cases {
		if _, ok := cmpCasemap.wildcard(c.s, c.p); ok != c.ok {
			t.Errorf("wildcard(%q, %q) = %v, want %v", c.s, c.p, ok, c.ok)
		}
	}
}
