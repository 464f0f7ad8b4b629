package sieve

import (
	"testing"
	"time"
)

// TestDate runs the date and currentdate tests of RFC 5260, with its
// section 4 and 5 examples.
func TestDate(t *testing.T) {
	msg := testMessage() // Date: Tue, 1 Apr 1997 09:06:31 -0800 (PST)
	msg.Now = time.Date(2007, 7, 1, 12, 0, 0, 0, time.UTC)
	msg.Header = append(msg.Header, Field{"X-Bad-Date", "not a date"})
	cases := []struct {
		name, src, want string
	}{
		{"rfc5260 4 office hours", `require ["date","relational","fileinto"];
if allof(header :is "from" "coyote@desert.example.org",
         date :value "ge" :originalzone "date" "hour" "09",
         date :value "lt" :originalzone "date" "hour" "17")
{ fileinto "urgent"; }`, "fileinto:urgent"},
		{"utc by default", `require ["date","fileinto"]; if date :is "date" "hour" "17" { fileinto "utc"; }`, "fileinto:utc"},
		{":zone", `require ["date","fileinto"]; if date :zone "+0100" "date" "time" "18:06:31" { fileinto "cet"; }`, "fileinto:cet"},
		{"date part", `require ["date","fileinto"]; if date :is :originalzone "date" "date" "1997-04-01" { fileinto "d"; }`, "fileinto:d"},
		{"weekday", `require ["date","fileinto"]; if date :is :originalzone "date" "weekday" "2" { fileinto "tue"; }`, "fileinto:tue"},
		{"zone part", `require ["date","fileinto"]; if date :is :originalzone "date" "zone" "-0800" { fileinto "pst"; }`, "fileinto:pst"},
		{"julian", `require ["date","fileinto"]; if date :is "date" "julian" "50539" { fileinto "mjd"; }`, "fileinto:mjd"},
		{"bad date never matches", `require ["date","fileinto"]; if date :matches "x-bad-date" "year" "*" { fileinto "x"; }`, "keep"},
		{"missing field", `require ["date","fileinto"]; if date :matches "x-none" "year" "*" { fileinto "x"; }`, "keep"},
		{"rfc5260 5 currentdate", `require ["date","relational","vacation"];
if allof(currentdate :value "ge" "date" "2007-06-30",
         currentdate :value "le" "date" "2007-07-07")
{ vacation :days 7 "I'm away during the first week in July."; }`, "vacation:I'm away during the first week in July. keep"},
		{"currentdate outside", `require ["date","relational","fileinto"]; if currentdate :value "lt" "year" "2007" { fileinto "x"; }`, "keep"},
		{"date with variables", `require ["date","variables","fileinto"];
if currentdate :matches "year" "*" { set "y" "${1}"; }
if currentdate :matches "month" "*" { fileinto "Archive/${y}/${1}"; }`, "fileinto:Archive/2007/07"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(mustRun(t, c.src, msg)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []string{
		`require "date"; if date :zone "CET" "date" "hour" "1" { keep; }`,
		`require "date"; if date "date" "fortnight" "1" { keep; }`,
		`require "date"; if date :zone "+0100" :originalzone "date" "hour" "1" { keep; }`,
		`if currentdate "year" "2007" { keep; }`,
	} {
		if _, err := Compile(bad, Limits{}); err == nil {
			t.Errorf("compiled: %s", bad)
		}
	}
}

// TestIndex runs :index and :last (RFC 5260 section 6) on header,
// address and date, with the section 6 example.
func TestIndex(t *testing.T) {
	msg := testMessage()
	msg.Header = append([]Field{
		{"Received", "from a.example by b.example; Tue, 1 Apr 1997 10:00:00 +0000"},
		{"Received", "from c.example by a.example; Tue, 1 Apr 1997 09:00:00 +0000"},
		{"X-Addr", "first@example.com"},
		{"X-Addr", "second@example.net"},
	}, msg.Header...)
	cases := []struct {
		name, src, want string
	}{
		{"rfc5260 6 last received", `require ["date","relational","index","fileinto"];
if date :value "gt" :index 1 :last "received" "hour" "08" { fileinto "late"; }`, "fileinto:late"},
		{"header first", `require ["index","fileinto"]; if header :index 1 :contains "received" "from a.example" { fileinto "1"; }`, "fileinto:1"},
		{"header first not second", `require ["index","fileinto"]; if header :index 1 :contains "received" "from c.example" { fileinto "1"; }`, "keep"},
		{"header last", `require ["index","fileinto"]; if header :index 1 :last :contains "received" "from c.example" { fileinto "L"; }`, "fileinto:L"},
		{"address index", `require ["index","fileinto"]; if address :index 2 :domain "x-addr" "example.net" { fileinto "2"; }`, "fileinto:2"},
		{"out of range", `require ["index","fileinto"]; if header :index 3 :matches "x-addr" "*" { fileinto "3"; }`, "keep"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(mustRun(t, c.src, msg)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []string{
		`require "index"; if header :last "a" "b" { keep; }`,
		`require "index"; if header :index 0 "a" "b" { keep; }`,
		`if header :index 1 "a" "b" { keep; }`,
	} {
		if _, err := Compile(bad, Limits{}); err == nil {
			t.Errorf("compiled: %s", bad)
		}
	}
}
