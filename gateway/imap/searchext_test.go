package imapgw

import (
	"strings"
	"testing"
	"time"
)

// TestSearchIndexKeysReadNoObjects: SAVEDATE (RFC 8514), WITHIN (RFC
// 5032) and MODSEQ (RFC 7162) are answered from the index entries' heads,
// in both deployments, without reading a message object.
func TestSearchIndexKeysReadNoObjects(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		old := time.Date(2020, 1, 1, 10, 0, 0, 0, time.UTC)
		env.deliverAt(t, a, "INBOX", "", plainMsg, old)
		env.deliverAt(t, a, "INBOX", "", lunchMsg, time.Now().Add(-time.Minute))
		env.deliverAt(t, a, "INBOX", "", multipartMsg, old, `\Seen`)
		tr := rawLogin(t, env, a)
		tr.send("a1 SELECT INBOX")
		tr.expect("a1 OK")
		before := env.blobs.Gets()
		today := time.Now().UTC().Format("2-Jan-2006")
		for _, q := range []struct{ cmd, want string }{
			{"SEARCH SAVEDATESUPPORTED", "* SEARCH 1 2 3"},
			{"SEARCH SAVEDSINCE 1-Jan-2025 BEFORE 1-Jan-2025", "* SEARCH 1 3"},
			{"SEARCH SAVEDON " + today + " NOT ON " + today, "* SEARCH 1 3"},
			{"SEARCH SAVEDBEFORE 1-Jan-2025", "* SEARCH"},
			{"SEARCH YOUNGER 3600", "* SEARCH 2"},
			{"SEARCH OLDER 3600 UNSEEN", "* SEARCH 1"},
			{"UID SEARCH OR YOUNGER 3600 SEEN", "* SEARCH 2 3"},
			{"SEARCH MODSEQ 1 NOT YOUNGER 3600", "* SEARCH 1 3 (MODSEQ "},
		} {
			tr.send("s " + q.cmd)
			got := tr.expect("* SEARCH")
			tr.expect("s OK")
			if got != q.want && !(strings.HasSuffix(q.want, " ") && strings.HasPrefix(got, q.want)) {
				t.Errorf("%s: %q, want %q", q.cmd, got, q.want)
			}
		}
		tr.send("e UID SEARCH RETURN (MIN MAX COUNT) SAVEDSINCE 1-Jan-2025 MODSEQ 1")
		if got := tr.expect("* ESEARCH"); !strings.HasPrefix(got, `* ESEARCH (TAG "e") UID MIN 1 MAX 3 COUNT 3 MODSEQ `) {
			t.Errorf("ESEARCH: %q", got)
		}
		tr.expect("e OK")
		if got := env.blobs.Gets() - before; got != 0 {
			t.Fatalf("SAVEDATE, WITHIN and MODSEQ searches read %d message objects, want 0", got)
		}
	})
}

// TestSearchESearchModSeq: with MIN or MAX alone, the MODSEQ of ESEARCH
// is that of the message returned; with both the higher of the two; with
// ALL or COUNT the highest found (RFC 4731 section 3.2).
func TestSearchESearchModSeq(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	for range 3 {
		env.deliver(t, a, "INBOX", "", plainMsg)
	}
	tr := rawLogin(t, env, a)
	tr.send("a1 SELECT INBOX (CONDSTORE)")
	tr.expect("a1 OK")
	modSeq := map[string]string{}
	// Changed in the order 3, 1, 2: the highest is 2's, then 1's, then 3's.
	for _, n := range []string{"3", "1", "2"} {
		tr.send("st STORE " + n + ` +FLAGS (\Flagged)`)
		line := tr.expect("* " + n + " FETCH")
		i := strings.Index(line, "MODSEQ (")
		if i < 0 {
			t.Fatalf("STORE %s: %q", n, line)
		}
		modSeq[n] = strings.TrimSuffix(line[i+len("MODSEQ ("):], "))")
		tr.expect("st OK")
	}
	for _, q := range []struct{ ret, want string }{
		{"MIN", "MIN 1 MODSEQ " + modSeq["1"]},
		{"MAX", "MAX 3 MODSEQ " + modSeq["3"]},
		{"MIN MAX", "MIN 1 MAX 3 MODSEQ " + modSeq["1"]},
		{"MIN COUNT", "MIN 1 COUNT 3 MODSEQ " + modSeq["2"]},
		{"ALL", "ALL 1:3 MODSEQ " + modSeq["2"]},
	} {
		tr.send("e SEARCH RETURN (" + q.ret + ") MODSEQ 1")
		got := tr.expect("* ESEARCH")
		tr.expect("e OK")
		if want := `* ESEARCH (TAG "e") ` + q.want; got != want {
			t.Errorf("RETURN (%s): %q, want %q", q.ret, got, want)
		}
	}
}

// TestSearchProgramCaps: a search program over the key cap or the nesting
// cap is BAD, and the session goes on (invariant 9).
func TestSearchProgramCaps(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliver(t, a, "INBOX", "", plainMsg)
	tr := rawLogin(t, env, a)
	tr.send("a1 SELECT INBOX")
	tr.expect("a1 OK")
	for _, q := range []struct{ cmd, want string }{
		{"SEARCH" + strings.Repeat(" SEEN", 1000), "s OK"},
		{"SEARCH" + strings.Repeat(" SEEN", 1001), "s BAD"},
		{"SEARCH" + strings.Repeat(" (SEEN", 200) + strings.Repeat(")", 200), "s BAD"},
		{"SEARCH" + strings.Repeat(" NOT", 200) + " SEEN", "s BAD"},
		{"SORT (DATE) UTF-8" + strings.Repeat(" OR ALL", 200) + " ALL ALL", "s BAD"},
		{"SEARCH MODSEQ \"/shared/comment\" shared 1", "s BAD"},
		{"SEARCH YOUNGER 0", "s BAD"},
		{"SEARCH OLDER 4294967296", "s BAD"},
		{"SEARCH SAVEDON 31-Feb-2024x", "s BAD"},
	} {
		tr.send("s " + q.cmd)
		if got := tr.expect("s "); !strings.HasPrefix(got, q.want) {
			t.Errorf("%.60s...: %q, want %s", q.cmd, got, q.want)
		}
	}
	tr.send("n NOOP")
	tr.expect("n OK")
}

// TestSearchObjectID: EMAILID finds the message with that EMAILID, its
// copies included; THREADID finds none, no threads being kept (RFC 8474
// section 7).
func TestSearchObjectID(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	env.deliver(t, a, "INBOX", "", plainMsg)
	env.deliver(t, a, "INBOX", "", lunchMsg)
	tr := rawLogin(t, env, a)
	tr.send("a1 SELECT INBOX")
	tr.expect("a1 OK")
	tr.send("a2 COPY 2 INBOX")
	tr.expect("a2 OK")
	tr.send("a3 FETCH 2 (EMAILID)")
	line := tr.expect("* 2 FETCH")
	tr.expect("a3 OK")
	i := strings.Index(line, "EMAILID (")
	if i < 0 {
		t.Fatalf("FETCH EMAILID: %q", line)
	}
	id := strings.TrimSuffix(line[i+len("EMAILID ("):], "))")
	for _, q := range []struct{ cmd, want string }{
		{"SEARCH EMAILID " + id, "* SEARCH 2 3"},
		{"SEARCH NOT EMAILID " + id, "* SEARCH 1"},
		{"SEARCH THREADID T1", "* SEARCH"},
	} {
		tr.send("s " + q.cmd)
		got := tr.expect("* SEARCH")
		tr.expect("s OK")
		if got != q.want {
			t.Errorf("%s: %q, want %q", q.cmd, got, q.want)
		}
	}
}
