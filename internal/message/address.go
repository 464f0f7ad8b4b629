package message

import (
	"net/mail"
	"strings"
)

// maxAddresses caps the addresses kept of one header field.
const maxAddresses = 1000

var addrParser = mail.AddressParser{WordDecoder: wordDecoder}

// parseAddressList parses an address list header (RFC 5322 section 3.4)
// into IMAP ENVELOPE addresses (RFC 9051 section 7.5.2): display names are
// decoded from RFC 2047 encoded-words; a group becomes a start marker (the
// group name as Mailbox, no Host), its members and an end marker (all
// empty). A mailbox that cannot be parsed is skipped, not the whole list.
func parseAddressList(v string) []Address {
	var out []Address
	inGroup := false
	for _, item := range splitAddressList(v) {
		if len(out) >= maxAddresses {
			break
		}
		s := item.text
		if item.groupStart {
			name, rest, _ := cutGroupName(s)
			out = append(out, Address{Mailbox: groupName(name)})
			inGroup = true
			s = rest
		}
		if a, ok := parseMailbox(s); ok {
			out = append(out, a)
		}
		if item.groupEnd && inGroup {
			out = append(out, Address{})
			inGroup = false
		}
	}
	if inGroup {
		out = append(out, Address{})
	}
	return out
}

// groupName is the display name of a group, decoded; a group needs a name
// to be told from an end marker.
func groupName(s string) string {
	s = decodeText(unquote(strings.TrimSpace(s)))
	if s == "" {
		s = "group"
	}
	return s
}

// parseMailbox parses one mailbox; ok is false for an empty or unusable one.
func parseMailbox(s string) (Address, bool) {
	if strings.TrimSpace(s) == "" {
		return Address{}, false
	}
	s, route := cutRoute(s)
	var name, addr string
	if a, err := addrParser.Parse(s); err == nil {
		name, addr = a.Name, a.Address
	} else if bare, comment := stripComments(s); bare != s {
		// Comments where net/mail takes none ("ann(home)@example.org",
		// "carol@(dept)example.com (Carol)") are CFWS (RFC 5322 section
		// 3.2.2), not part of the address; a comment after a bare
		// address is its name, as mail readers show it.
		if a, err := addrParser.Parse(bare); err == nil {
			name, addr = a.Name, a.Address
		} else if name, addr = salvageMailbox(bare); addr == "" {
			return Address{}, false
		}
		if name == "" {
			name = comment
		}
	} else if name, addr = salvageMailbox(s); addr == "" {
		return Address{}, false
	}
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return Address{}, false // IMAP needs a mailbox and a host
	}
	return Address{Name: clean(name), Route: clean(route), Mailbox: clean(addr[:i]), Host: clean(addr[i+1:])}, true
}

// cutRoute takes the obsolete source route out of a mailbox's angle
// brackets (RFC 5322 section 4.4, obs-angle-addr): `Joe <@a,@b:j@c>`
// gives `Joe <j@c>` and "@a,@b", the route as IMAP's addr-adl has it.
func cutRoute(s string) (rest, route string) {
	i := strings.LastIndexByte(s, '<')
	if i < 0 {
		return s, ""
	}
	n := routeLen(s[i+1:])
	if n < 0 {
		return s, ""
	}
	var domains []string
	for d := range strings.SplitSeq(s[i+1:i+1+n], ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	return s[:i+1] + s[i+1+n+1:], strings.Join(domains, ",")
}

// routeLen is the length of the obs-domain-list at the start of s, up to
// the colon that ends it, or -1 if s does not start with one:
// *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":", comments left
// out. Every domain in it starts with "@".
func routeLen(s string) int {
	atStart, seen := true, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			if !seen {
				return -1
			}
			return i
		case c == ',' || c == ' ' || c == '\t':
			atStart = atStart || c == ','
		case c == '@':
			if !atStart {
				return -1
			}
			atStart, seen = false, true
		case c == '<' || c == '>' || c == ';' || c == '"' || c == '(' || c == '\\' || atStart:
			return -1
		}
	}
	return -1
}

// stripComments removes the comments of s outside quoted strings and
// domain literals (nested, with quoted-pairs) and returns the text of a
// comment that ends s, trimmed.
func stripComments(s string) (bare, last string) {
	var b, c strings.Builder
	depth, quoted, literal, lastEnd := 0, false, false, -1
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case depth > 0:
			switch ch {
			case '\\':
				if i+1 < len(s) {
					i++
					c.WriteByte(s[i])
				}
				continue
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					last, lastEnd = strings.TrimSpace(c.String()), i
					c.Reset()
					b.WriteByte(' ')
					continue
				}
			}
			c.WriteByte(ch)
			continue
		case quoted:
			if ch == '\\' && i+1 < len(s) {
				b.WriteByte(ch)
				i++
				ch = s[i]
			} else if ch == '"' {
				quoted = false
			}
		case literal:
			literal = ch != ']'
		case ch == '"':
			quoted = true
		case ch == '[':
			literal = true
		case ch == '(':
			depth = 1
			continue
		}
		b.WriteByte(ch)
	}
	if depth > 0 {
		return s, "" // an unclosed comment: leave it to the salvage
	}
	if lastEnd < 0 || strings.TrimSpace(s[lastEnd+1:]) != "" {
		last = ""
	}
	bare = b.String()
	// A comment next to the "@" of an addr-spec leaves a space where it
	// was: "ann(home)@x" is "ann@x" (CFWS around "@").
	bare = strings.NewReplacer(" @", "@", "@ ", "@").Replace(bare)
	return bare, last
}

// salvageMailbox reads `name <addr>` or a bare addr that net/mail refused.
func salvageMailbox(s string) (name, addr string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			addr = strings.TrimSpace(s[i+1 : i+j])
			name = decodeText(unquote(strings.TrimSpace(s[:i])))
		}
	} else if !strings.ContainsAny(s, " \t\"") {
		addr = s
	}
	if strings.ContainsAny(addr, " \t<>,;\"") {
		return "", ""
	}
	return name, addr
}

// listItem is one comma-separated piece of an address list.
type listItem struct {
	text       string
	groupStart bool // text begins with "name:"
	groupEnd   bool // a ";" closed a group after text
}

// splitAddressList splits v at commas, colons and semicolons that are
// outside quoted strings, comments and domain literals; the commas and
// colon of a source route inside angle brackets neither end the mailbox
// nor open a group.
func splitAddressList(v string) []listItem {
	var items []listItem
	var cur listItem
	from, depth, quoted, esc, angle, literal := 0, 0, false, false, false, false
	emit := func(i int, end bool) {
		cur.text += v[from:i]
		cur.groupEnd = end
		items = append(items, cur)
		cur = listItem{}
		from = i + 1
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && (quoted || depth > 0):
			esc = true
		case quoted:
			quoted = c != '"'
		case depth > 0:
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
		case c == '"':
			quoted = true
		case c == '(':
			depth = 1
		case literal:
			literal = c != ']'
		case c == '[':
			literal = true
		case c == ',':
			// Commas end a mailbox even inside an unclosed "<": losing
			// obsolete source routes is better than losing the list.
			angle = false
			emit(i, false)
		case c == ';':
			angle = false
			emit(i, true)
		case angle:
			angle = c != '>'
		case c == '<':
			angle = true
			// A source route's commas do not end the mailbox.
			if n := routeLen(v[i+1:]); n > 0 {
				i += n
			}
		case c == ':' && !cur.groupStart && strings.TrimSpace(cur.text+v[from:i]) != "":
			// "name:" opens a group; keep the name in the item text.
			cur.groupStart = true
		}
	}
	if strings.TrimSpace(v[from:]) != "" || cur.groupStart {
		emit(len(v), false)
	}
	return items
}

// cutGroupName splits "name: first-member" at the group's colon.
func cutGroupName(s string) (name, rest string, ok bool) {
	parts := splitOutside(s, ':')
	if len(parts) < 2 {
		return s, "", false
	}
	return parts[0], strings.Join(parts[1:], ":"), true
}

// splitOutside splits s at sep outside quotes and comments.
func splitOutside(s string, sep byte) []string {
	var out []string
	from, depth, quoted, esc := 0, 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && (quoted || depth > 0):
			esc = true
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == sep && depth == 0 && len(out) == 0:
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	return append(out, s[from:])
}
