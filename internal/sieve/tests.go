package sieve

import "strings"

// test evaluates one test.
func (r *runner) test(t *Test) (bool, error) {
	if err := r.step(t.Pos); err != nil {
		return false, err
	}
	cl := t.call
	switch t.Name {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "not":
		ok, err := r.test(t.Tests[0])
		return !ok, err
	case "allof", "anyof":
		return r.testList(t)
	case "size":
		n := cl.pos[0].Num
		if cl.has("over") {
			return r.msg.Size > n, nil
		}
		return r.msg.Size < n, nil
	case "exists":
		for _, name := range r.expandAll(cl.pos[0].Strs) {
			if len(r.msg.values(name, false)) == 0 {
				return false, nil
			}
		}
		return true, nil
	case "mailboxexists":
		for _, name := range r.expandAll(cl.pos[0].Strs) {
			if r.msg.Mailbox == nil || !r.msg.Mailbox(name) {
				return false, nil
			}
		}
		return true, nil
	}
	return r.matchTest(t), nil
}

// testList evaluates allof and anyof, stopping at the first test that
// settles the result (RFC 5228 sections 5.2 and 5.3).
func (r *runner) testList(t *Test) (bool, error) {
	all := t.Name == "allof"
	for _, sub := range t.Tests {
		ok, err := r.test(sub)
		if err != nil {
			return false, err
		}
		if ok != all {
			return ok, nil
		}
	}
	return all, nil
}

// matchTest evaluates the tests that compare values with keys.
func (r *runner) matchTest(t *Test) bool {
	cl := t.call
	m := newMatcher(cl)
	if m.typ == "matches" && r.s.require["variables"] {
		m.onCap = r.setMatch
	}
	var values []string
	keys := r.expandAll(cl.pos[len(cl.pos)-1].Strs)
	switch t.Name {
	case "header":
		for _, name := range r.expandAll(cl.pos[0].Strs) {
			values = append(values, pick(r.msg.values(name, true), cl)...)
		}
	case "address":
		for _, name := range r.expandAll(cl.pos[0].Strs) {
			values = append(values, parts(addressList(pick(r.msg.values(name, false), cl)), cl)...)
		}
	case "envelope":
		values = parts(r.envelope(r.expandAll(cl.pos[0].Strs)), cl)
	case "body":
		values = r.body(cl)
	case "string":
		for _, v := range r.expandAll(cl.pos[0].Strs) {
			// RFC 5229 section 5: :count counts the non-empty strings.
			if v != "" || m.typ != "count" {
				values = append(values, v)
			}
		}
	case "date", "currentdate":
		values = r.dateValues(t)
	case "hasflag":
		values = r.flagValues(cl.pos[0])
		keys = splitFlags(keys)
	}
	return m.any(values, keys)
}

func (r *runner) envelope(names []string) []string {
	var out []string
	for _, n := range names {
		switch strings.ToLower(n) {
		case "from":
			out = append(out, r.msg.From)
		case "to":
			out = append(out, r.msg.To)
		}
	}
	return out
}

// parts maps addresses to the address part cl asks for.
func parts(addrs []string, cl call) []string {
	part := "all"
	for _, p := range addressPartGroup {
		if cl.has(p) {
			part = p
		}
	}
	var out []string
	for _, a := range addrs {
		if v, ok := addressPart(a, part); ok {
			out = append(out, v)
		}
	}
	return out
}

// body returns what the body test looks at (RFC 5173): the decoded text
// for :text and for :content of a text type, the raw body for :raw.
func (r *runner) body(cl call) []string {
	if cl.has("raw") {
		if r.msg.RawBody != "" {
			return []string{r.msg.RawBody}
		}
		return []string{r.msg.Body}
	}
	if a, ok := cl.tags["content"]; ok {
		for _, ct := range a.Strs {
			ct = strings.ToLower(ct)
			if ct == "" || ct == "text" || strings.HasPrefix(ct, "text/") {
				return []string{r.msg.Body}
			}
		}
		return nil
	}
	return []string{r.msg.Body}
}

// pick keeps the field :index (counted from the end with :last) selects,
// or all of them without :index (RFC 5260 section 6).
func pick(vals []string, cl call) []string {
	if !cl.has("index") {
		return vals
	}
	n := int(cl.num("index", 1))
	if n > len(vals) {
		return nil
	}
	if cl.has("last") {
		return vals[len(vals)-n : len(vals)-n+1]
	}
	return vals[n-1 : n]
}
