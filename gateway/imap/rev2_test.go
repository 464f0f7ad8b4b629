package imapgw

import (
	"strings"
	"testing"
)

// TestIMAP4rev2Transcript is a client that ENABLEs IMAP4rev2 (RFC 9051).
func TestIMAP4rev2Transcript(t *testing.T) {
	env := newEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	env.deliver(t, "alice@example.org", "INBOX", "", lunchMsg, `\Seen`)
	tr := rawLogin(t, env, "alice@example.org")

	tr.send("v1 ENABLE IMAP4rev2")
	tr.expect("* ENABLED IMAP4rev2")
	tr.expect("v1 OK")

	tr.send("v2 SELECT inbox")
	tr.expect("* 2 EXISTS")
	if line := tr.expect("* LIST"); !strings.HasSuffix(line, `"/" INBOX`) {
		t.Errorf("SELECT LIST response: %q", line)
	}
	tr.expect("v2 OK [READ-WRITE]")

	tr.send("v3 UID SEARCH UNSEEN")
	if line := tr.expect("* ESEARCH"); line != `* ESEARCH (TAG "v3") UID ALL 1` {
		t.Errorf("ESEARCH: %q", line)
	}
	tr.expect("v3 OK")

	tr.send(`v4 LIST "" "%" RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))`)
	if line := tr.expect(`* LIST (\HasNoChildren \Sent)`); !strings.HasSuffix(line, `"/" "Sent"`) {
		t.Errorf("LIST RETURN SPECIAL-USE: %q", line)
	}
	tr.expect("v4 OK")

	tr.send("v5 EXAMINE INBOX")
	tr.expect("* OK [CLOSED]")
	tr.expect("v5 OK [READ-ONLY]")
	tr.send("v6 MOVE 1 Trash")
	if line := tr.expect("v6 "); !strings.HasPrefix(line, "v6 NO") {
		t.Errorf("MOVE from read-only mailbox: %q", line)
	}
	tr.send("v7 UNSELECT")
	tr.expect("v7 OK")
	tr.send("v8 IDLE")
	tr.expect("+ ")
	tr.send("DONE")
	tr.expect("v8 OK")
	tr.send("v9 LOGOUT")
	tr.expect("* BYE")
}
