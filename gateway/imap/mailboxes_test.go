package imapgw

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// listNames lists with ref and pattern and returns "name attrs" lines.
func listNames(t *testing.T, c *imapclient.Client, ref, pattern string, options *imap.ListOptions) map[string][]imap.MailboxAttr {
	t.Helper()
	l, err := c.List(ref, pattern, options).Collect()
	if err != nil {
		t.Fatalf("LIST %q %q: %v", ref, pattern, err)
	}
	out := map[string][]imap.MailboxAttr{}
	for _, d := range l {
		if d.Delim != '/' {
			t.Errorf("LIST %s: delimiter %q", d.Mailbox, d.Delim)
		}
		out[d.Mailbox] = d.Attrs
	}
	return out
}

func keys(m map[string][]imap.MailboxAttr) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func TestDefaultMailboxesWithSpecialUse(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)
	got := listNames(t, c, "", "*", nil)
	want := map[string]imap.MailboxAttr{"INBOX": "", "Sent": imap.MailboxAttrSent,
		"Drafts": imap.MailboxAttrDrafts, "Trash": imap.MailboxAttrTrash,
		"Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive}
	if len(got) != len(want) {
		t.Fatalf("LIST * = %v", keys(got))
	}
	for name, use := range want {
		attrs, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if use != "" && !slices.Contains(attrs, use) {
			t.Errorf("%s attrs %v lack %s", name, attrs, use)
		}
		if !slices.Contains(attrs, imap.MailboxAttrHasNoChildren) {
			t.Errorf("%s attrs %v lack \\HasNoChildren", name, attrs)
		}
	}
	special := listNames(t, c, "", "*", &imap.ListOptions{SelectSpecialUse: true})
	if _, ok := special["INBOX"]; ok || len(special) != 5 {
		t.Errorf("LIST (SPECIAL-USE) = %v", keys(special))
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' || ns.Personal[0].Prefix != "" {
		t.Errorf("NAMESPACE = %+v, %v", ns, err)
	}
}

func TestMailboxHierarchy(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)

	for _, name := range []string{"Work/Projects/Alpha", "Work/Admin", "Personal/"} {
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatalf("CREATE %s: %v", name, err)
		}
	}
	if err := c.Create("Work/Admin", nil).Wait(); imapCode(err) != imap.ResponseCodeAlreadyExists {
		t.Errorf("CREATE existing: %v, want ALREADYEXISTS", err)
	}
	if err := c.Create("bad//name", nil).Wait(); imapCode(err) != imap.ResponseCodeCannot {
		t.Errorf("CREATE bad//name: %v, want CANNOT", err)
	}
	if err := c.Create("Important", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err != nil {
		t.Errorf("CREATE with USE: %v", err)
	}

	top := listNames(t, c, "", "%", nil)
	for _, name := range []string{"INBOX", "Work", "Personal", "Important"} {
		if _, ok := top[name]; !ok {
			t.Errorf("LIST %% lacks %s: %v", name, keys(top))
		}
	}
	if _, ok := top["Work/Admin"]; ok {
		t.Errorf("LIST %% descends: %v", keys(top))
	}
	if !slices.Contains(top["Work"], imap.MailboxAttrHasChildren) {
		t.Errorf("Work attrs %v lack \\HasChildren", top["Work"])
	}
	if !slices.Contains(top["Important"], imap.MailboxAttrFlagged) {
		t.Errorf("Important attrs %v lack \\Flagged", top["Important"])
	}
	if got := keys(listNames(t, c, "", "Work/%", nil)); !slices.Equal(got, []string{"Work/Admin", "Work/Projects"}) {
		t.Errorf("LIST Work/%% = %v", got)
	}
	if got := keys(listNames(t, c, "Work/", "*", nil)); !slices.Equal(got, []string{"Work/Admin", "Work/Projects", "Work/Projects/Alpha"}) {
		t.Errorf("LIST Work/ * = %v", got)
	}
	if got := keys(listNames(t, c, "", "inbox", nil)); !slices.Equal(got, []string{"INBOX"}) {
		t.Errorf("LIST inbox = %v", got)
	}
	if got := keys(listNames(t, c, "", "*Alpha", nil)); !slices.Equal(got, []string{"Work/Projects/Alpha"}) {
		t.Errorf("LIST *Alpha = %v", got)
	}

	// LIST "" "" gives the delimiter.
	root, err := c.List("", "", nil).Collect()
	if err != nil || len(root) != 1 || root[0].Delim != '/' || !slices.Contains(root[0].Attrs, imap.MailboxAttrNoSelect) {
		t.Errorf(`LIST "" "" = %+v, %v`, root, err)
	}

	// RENAME moves the children along.
	if err := c.Rename("Work", "Job", nil).Wait(); err != nil {
		t.Fatalf("RENAME: %v", err)
	}
	if got := keys(listNames(t, c, "", "Job*", nil)); !slices.Equal(got, []string{"Job", "Job/Admin", "Job/Projects", "Job/Projects/Alpha"}) {
		t.Errorf("after RENAME: %v", got)
	}
	if err := c.Rename("Nope", "Other", nil).Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Errorf("RENAME missing: %v, want NONEXISTENT", err)
	}
	if err := c.Rename("Job/Admin", "Personal", nil).Wait(); imapCode(err) != imap.ResponseCodeAlreadyExists {
		t.Errorf("RENAME onto existing: %v, want ALREADYEXISTS", err)
	}

	// DELETE leaves inferiors, whose parent then shows as \Noselect.
	if err := c.Delete("Job/Projects").Wait(); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	l := listNames(t, c, "", "Job/%", nil)
	if !slices.Contains(l["Job/Projects"], imap.MailboxAttrNoSelect) {
		t.Errorf("deleted parent attrs %v, want \\Noselect", l["Job/Projects"])
	}
	if err := c.Delete("Job/Projects").Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Errorf("DELETE missing: %v, want NONEXISTENT", err)
	}
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Errorf("DELETE INBOX succeeded")
	}
	if _, err := c.Select("Job/Projects", nil).Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Errorf("SELECT deleted: %v, want NONEXISTENT", err)
	}
}

func TestSubscriptionsAndLSUB(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)
	if err := c.Create("Lists/Go", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe("Lists/Go").Wait(); err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	sub := listNames(t, c, "", "*", &imap.ListOptions{SelectSubscribed: true})
	if !slices.Contains(sub["Lists/Go"], imap.MailboxAttrSubscribed) {
		t.Errorf("LIST (SUBSCRIBED) = %v", sub)
	}
	rec := listNames(t, c, "", "%", &imap.ListOptions{SelectSubscribed: true, SelectRecursiveMatch: true})
	if _, ok := rec["Lists"]; !ok {
		t.Errorf("LIST (SUBSCRIBED RECURSIVEMATCH) %% = %v, want Lists", keys(rec))
	}
	all := listNames(t, c, "", "*", &imap.ListOptions{ReturnSubscribed: true})
	if !slices.Contains(all["Lists/Go"], imap.MailboxAttrSubscribed) || slices.Contains(all["Lists"], imap.MailboxAttrSubscribed) {
		t.Errorf("LIST RETURN (SUBSCRIBED) = %v", all)
	}

	// LSUB, the IMAP4rev1 way, on the wire.
	tr := rawLogin(t, env, "alice@example.org")
	tr.send(`l1 LSUB "" "Lists/*"`)
	if line := tr.expect("* LSUB"); !strings.HasSuffix(line, `"/" "Lists/Go"`) {
		t.Errorf("LSUB: %q", line)
	}
	tr.expect("l1 OK")

	if err := c.Unsubscribe("Lists/Go").Wait(); err != nil {
		t.Fatalf("UNSUBSCRIBE: %v", err)
	}
	if sub := listNames(t, c, "", "Lists*", &imap.ListOptions{SelectSubscribed: true}); len(sub) != 0 {
		t.Errorf("after UNSUBSCRIBE: %v", keys(sub))
	}
}

func TestStatusAndListStatus(t *testing.T) {
	env := newEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "Delivered-To: alice@example.org\r\n", plainMsg)
	env.deliver(t, "alice@example.org", "INBOX", "", multipartMsg, `\Seen`, `\Deleted`)
	c := env.dial(t, "alice@example.org", nil)

	all := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true,
		NumUnseen: true, NumDeleted: true, Size: true}
	st, err := c.Status("INBOX", all).Wait()
	if err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	wantSize := int64(len("Delivered-To: alice@example.org\r\n") + len(plainMsg) + len(multipartMsg))
	if *st.NumMessages != 2 || *st.NumUnseen != 1 || *st.NumDeleted != 1 || *st.Size != wantSize ||
		st.UIDNext != 3 || st.UIDValidity == 0 {
		t.Errorf("STATUS = messages %d unseen %d deleted %d size %d (want %d) uidnext %d",
			*st.NumMessages, *st.NumUnseen, *st.NumDeleted, *st.Size, wantSize, st.UIDNext)
	}
	if _, err := c.Status("Nope", all).Wait(); imapCode(err) != imap.ResponseCodeNonExistent {
		t.Errorf("STATUS missing: %v, want NONEXISTENT", err)
	}

	l, err := c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true, Size: true}}).Collect()
	if err != nil {
		t.Fatalf("LIST RETURN (STATUS): %v", err)
	}
	found := false
	for _, d := range l {
		if d.Mailbox == "INBOX" {
			found = d.Status != nil && *d.Status.NumMessages == 2 && *d.Status.Size == wantSize
		}
	}
	if !found {
		t.Errorf("LIST-STATUS gave no INBOX status")
	}
}

// rawLogin opens an implicit-TLS transcript logged in as addr.
func rawLogin(t *testing.T, env *testEnv, addr string) *transcript {
	t.Helper()
	conn, err := tlsDial(env.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tr := newTranscript(t, conn)
	tr.expect("* OK")
	tr.send(`x0 LOGIN ` + addr + ` "` + testPassword + `"`)
	tr.expect("x0 OK")
	return tr
}

// TestRenameInbox: renaming INBOX moves its messages and leaves it empty
// (RFC 9051 section 6.3.6).
func TestRenameInbox(t *testing.T) {
	env := newEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	c := env.dial(t, "alice@example.org", nil)
	if err := c.Rename("INBOX", "Old", nil).Wait(); err != nil {
		t.Fatalf("RENAME INBOX: %v", err)
	}
	for name, want := range map[string]uint32{"INBOX": 0, "Old": 1} {
		st, err := c.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || *st.NumMessages != want {
			t.Errorf("STATUS %s after RENAME INBOX: %v, %v", name, st, err)
		}
	}
}
