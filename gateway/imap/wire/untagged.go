package wire

// Untagged responses whose form has a rule of its own; the others are
// written with Start, the value methods and End.

// NumSet writes a sequence set.
func (w *Writer) NumSet(s NumSet) *Writer { return w.Atom(s.String()) }

// List writes "* LIST (attrs) delim name" (RFC 9051 section 7.3.1), or
// LSUB with lsub; delim 0 is NIL (a flat namespace). The name is encoded
// as the client expects (modified UTF-7 unless UTF8). extra is written
// after the name, for the extended data of RFC 5258 (e.g. CHILDINFO).
func (w *Writer) List(lsub bool, attrs []string, delim byte, name string, extra func(w *Writer)) {
	cmd := "LIST"
	if lsub {
		cmd = "LSUB"
	}
	w.Start().Atom(cmd).Flags(attrs)
	if delim == 0 {
		w.Nil()
	} else {
		w.Quoted(string(delim))
	}
	w.Mailbox(name)
	if extra != nil {
		extra(w)
	}
	w.End()
}

// ESearch writes "* ESEARCH (TAG "tag") [UID] items" (RFC 4731 section
// 3.1); items writes the result options (MIN n, COUNT n, ALL set).
func (w *Writer) ESearch(tag string, uid bool, items func(w *Writer)) {
	w.Start().Atom("ESEARCH").BeginList().Atom("TAG").String(tag).EndList()
	if uid {
		w.Atom("UID")
	}
	if items != nil {
		items(w)
	}
	w.End()
}

// Vanished writes "* VANISHED [(EARLIER)] uids" (RFC 7162 section 3.2.10).
func (w *Writer) Vanished(earlier bool, uids NumSet) {
	w.Start().Atom("VANISHED")
	if earlier {
		w.BeginList().Atom("EARLIER").EndList()
	}
	w.NumSet(uids).End()
}
