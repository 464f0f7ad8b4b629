package sieve

import (
	"testing"
	"time"
)

func vacationOf(t *testing.T, src string) *VacationReply {
	t.Helper()
	for _, a := range mustRun(t, src, testMessage()).Actions {
		if a.Kind == Vacation {
			return a.Vacation
		}
	}
	t.Fatalf("no vacation action in %s", src)
	return nil
}

// TestVacationArguments checks the RFC 5230 section 4 arguments, the
// default and clamped periods and the derived handle.
func TestVacationArguments(t *testing.T) {
	v := vacationOf(t, `require "vacation"; vacation :days 90 :subject "Away" :from "rr@acme.example.com" :addresses ["a@x.org"] :handle "h1" "Gone";`)
	if v.Period != 30*24*time.Hour || v.Subject != "Away" || v.From != "rr@acme.example.com" || v.Handle != "h1" || v.Reason != "Gone" || len(v.Addresses) != 1 {
		t.Errorf("got %+v", v)
	}
	if v := vacationOf(t, `require "vacation"; vacation "Gone";`); v.Period != 7*24*time.Hour {
		t.Errorf("default period %v", v.Period)
	}
	if v := vacationOf(t, `require "vacation"; vacation :days 0 "Gone";`); v.Period != 24*time.Hour {
		t.Errorf(":days 0 gave %v, want one day", v.Period)
	}
	if v := vacationOf(t, `require ["vacation","vacation-seconds"]; vacation :seconds 60 "Gone";`); v.Period != time.Minute {
		t.Errorf(":seconds 60 gave %v", v.Period)
	}
	a := vacationOf(t, `require "vacation"; vacation "Gone";`)
	b := vacationOf(t, `require "vacation"; vacation "Back soon";`)
	if a.Handle == "" || a.Handle == b.Handle {
		t.Errorf("derived handles %q and %q", a.Handle, b.Handle)
	}
}

// TestVacationShouldReply checks who never gets an automatic reply
// (RFC 5230 sections 4.5 and 5, RFC 3834).
func TestVacationShouldReply(t *testing.T) {
	own := []string{"roadrunner@acme.example.com"}
	v := &VacationReply{}
	cases := []struct {
		name   string
		change func(m *Message)
		want   bool
	}{
		{"plain mail", func(m *Message) {}, true},
		{"null sender", func(m *Message) { m.From = "" }, false},
		{"own address", func(m *Message) { m.From = "Roadrunner@acme.example.com" }, false},
		{"mailer-daemon", func(m *Message) { m.From = "MAILER-DAEMON@example.org" }, false},
		{"owner-", func(m *Message) { m.From = "owner-list@example.org" }, false},
		{"-request", func(m *Message) { m.From = "list-request@example.org" }, false},
		{"auto-submitted", func(m *Message) { m.Header = append(m.Header, Field{"Auto-Submitted", "auto-replied"}) }, false},
		{"auto-submitted no", func(m *Message) { m.Header = append(m.Header, Field{"Auto-Submitted", "no"}) }, true},
		{"precedence bulk", func(m *Message) { m.Header = append(m.Header, Field{"Precedence", "bulk"}) }, false},
		{"list-id", func(m *Message) { m.Header = append(m.Header, Field{"List-Id", "<a.example.org>"}) }, false},
		{"not addressed to me", func(m *Message) { m.Header[2].Value = "someone@else.example" }, false},
		{"in cc", func(m *Message) {
			m.Header[2].Value = "someone@else.example"
			m.Header = append(m.Header, Field{"Cc", "Road Runner <roadrunner@acme.example.com>"})
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := testMessage()
			c.change(m)
			if got := v.ShouldReply(m, own); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	alias := &VacationReply{Addresses: []string{"rr@acme.example.com"}}
	m := testMessage()
	m.Header[2].Value = "rr@acme.example.com"
	if !alias.ShouldReply(m, own) {
		t.Error(":addresses not counted as the user's")
	}
}
