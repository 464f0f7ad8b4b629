package message

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestParseSourceRoute: an obsolete source route (RFC 5322 section 4.4)
// becomes the address's Route, IMAP's addr-adl, and the mailbox and host
// are those of the final address (RFC 3501 section 7.4.2); the route's
// commas do not split the list.
func TestParseSourceRoute(t *testing.T) {
	cases := []struct {
		in   string
		want []Address
	}{
		{"<@a.example,@b.example:user@c.example>", []Address{{Route: "@a.example,@b.example", Mailbox: "user", Host: "c.example"}}},
		{"Joe <@a.example:joe@c.example>, x@y.example", []Address{{Name: "Joe", Route: "@a.example", Mailbox: "joe", Host: "c.example"}, {Mailbox: "x", Host: "y.example"}}},
		{"Joe < @a.example , ,@b.example : joe@c.example>", []Address{{Name: "Joe", Route: "@a.example,@b.example", Mailbox: "joe", Host: "c.example"}}},
		{"Team: <@r.example:a@x.example>, b@y.example;", []Address{{Mailbox: "Team"}, {Route: "@r.example", Mailbox: "a", Host: "x.example"}, {Mailbox: "b", Host: "y.example"}, {}}},
		// Not routes: a colon in a quoted local part, a route without "@".
		{`<"a:b"@x.example>`, []Address{{Mailbox: `a:b`, Host: "x.example"}}},
		{"<a.example:user@c.example>", []Address{{Mailbox: "a.example:user", Host: "c.example"}}},
	}
	for _, c := range cases {
		if got := parseAddressList(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}

	s := parse(t, "From: Joe <@a.example,@b.example:joe@c.example>\r\nTo: x@y.example\r\n\r\n")
	if got := s.Envelope.From; len(got) != 1 || got[0].Route != "@a.example,@b.example" || got[0].Mailbox != "joe" {
		t.Errorf("From = %+v", got)
	}
	if r := s.IMAPRoutes(); r == nil || len(r[0]) != 1 || r[0][0] != "@a.example,@b.example" || r[3] != nil {
		t.Errorf("IMAPRoutes = %v", r)
	}
	if r := parse(t, "From: joe@c.example\r\n\r\n").IMAPRoutes(); r != nil {
		t.Errorf("IMAPRoutes without a route = %v, want nil", r)
	}
	b, err := json.Marshal(s.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"route"`); n != 1 {
		t.Errorf("summary %s: %d route fields, want 1 (none for To)", b, n)
	}
}
