package message

import "testing"

// Comments are CFWS, not part of an address (RFC 5322 section 3.2.2):
// where net/mail refuses them the address is read without them, and a
// comment after a bare address is its name.
func TestAddressComments(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Address
	}{
		{`Ann Example (Sales) <ann(home)@example.org>`, []Address{{Name: "Ann Example", Mailbox: "ann", Host: "example.org"}}},
		{`carol@(dept)example.com (Carol C)`, []Address{{Name: "Carol C", Mailbox: "carol", Host: "example.com"}}},
		{`"Bob (not a comment)" <bob@example.net>, dan(x)@example.net`, []Address{
			{Name: "Bob (not a comment)", Mailbox: "bob", Host: "example.net"}, {Mailbox: "dan", Host: "example.net"}}},
		{`J. Smith <js@example.com>`, []Address{{Name: "J. Smith", Mailbox: "js", Host: "example.com"}}},
		{`eve@example.com (unclosed`, nil},
	} {
		got := parseAddressList(c.in)
		if len(got) != len(c.want) {
			t.Errorf("%q: %+v, want %+v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %+v, want %+v", c.in, got[i], c.want[i])
			}
		}
	}
}
