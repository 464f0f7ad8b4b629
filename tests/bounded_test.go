package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// nestedMessage is a message whose body is nested depth multiparts deep
// over a text part that says "bottom".
func nestedMessage(from, to, subject string, depth int) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(message(from, to, subject, ""), "Content-Type: text/plain; charset=utf-8\r\n\r\n\r\n"))
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestAdversarialMessages sends, unauthenticated to port 25, a 1.2 MB
// message whose header is 300,000 folded lines (which cost the worker
// over 150 s of CPU per attempt) and a message nested 10,000 multiparts
// deep, and searches the latter over IMAP. Both are delivered: the first,
// whose header is over the DKIM reader's limit, to Junk with permerror
// results; the second is searched and described within the depth limit.
func TestAdversarialMessages(t *testing.T) {
	dnsAddr, _ := authDNS(t)
	w := setupWorld(t, "--dns-resolver", dnsAddr, "--max-message-size", strconv.Itoa(4<<20))
	smtpAddr := w.srv.addr("smtp")

	folded := strings.Replace(message("a@pass.test", alice, "folded header", "body"),
		"MIME-Version:", "X-Junk: a\r\n"+strings.Repeat(" x\r\n", 300_000)+"MIME-Version:", 1)
	mustSend(t, smtpAddr, "a@pass.test", []string{alice}, folded)
	mustSend(t, smtpAddr, "a@pass.test", []string{alice}, nestedMessage("a@pass.test", alice, "nested", 10_000))

	junk := w.waitSubjects(t, alice, alicePass, "Junk", "folded header")
	inbox := w.waitSubjects(t, alice, alicePass, "INBOX", "nested")
	c := dialIMAP(t, w.srv.addr("imap"), alice, alicePass, nil)
	listMailbox(t, c, "Junk")
	body := fetchBody(t, c, junk[0].UID)
	for _, s := range []string{"spf=pass", "dkim=permerror", "dmarc=permerror"} {
		if !strings.Contains(body[:min(len(body), 2000)], s) {
			t.Errorf("folded header message: Authentication-Results lacks %q:\n%.600s", s, body)
		}
	}
	if len(body) < 1_200_000 {
		t.Errorf("folded header message: %d bytes delivered", len(body))
	}

	listMailbox(t, c, "INBOX")
	for text, want := range map[string]int{"bottom": 1, "absent": 0} {
		data, err := c.UIDSearch(&imap.SearchCriteria{Text: []string{text}}, nil).Wait()
		if err != nil {
			t.Fatalf("SEARCH TEXT %s: %v", text, err)
		}
		if got := len(data.AllUIDs()); got != want {
			t.Errorf("SEARCH TEXT %s: %d messages, want %d", text, got, want)
		}
	}
	msgs, err := c.Fetch(imap.UIDSetNum(inbox[0].UID), &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("FETCH BODYSTRUCTURE: %v", err)
	}
	depth := 0
	for bs := msgs[0].BodyStructure; ; depth++ {
		mp, ok := bs.(*imap.BodyStructureMultiPart)
		if !ok || len(mp.Children) == 0 {
			break
		}
		bs = mp.Children[0]
	}
	if depth < 30 || depth > 33 {
		t.Errorf("BODYSTRUCTURE of a message nested 10,000 deep is %d deep, want the summary's limit", depth)
	}
}
