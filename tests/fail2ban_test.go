package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// filterPath is the fail2ban filter under test.
const filterPath = "../infra/fail2ban/filter.d/bucketmail.conf"

// TestFail2banFilter runs Debian's fail2ban-regex with the filter in
// infra/fail2ban against the log of a running server: every failed login,
// on SMTP, IMAP and POP3, is found with its client's address, including
// those whose username tries to name another address; successes and
// refusals by the limits are not. The log is read as the server writes it
// (JSON) and as the text handler of --log-format text renders the same
// records. No line of the log holds a key twice.
func TestFail2banFilter(t *testing.T) {
	regex, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		t.Skip("fail2ban-regex not found: the fail2ban filter is not checked (install Debian's fail2ban package; make deps does)")
	}
	w := setupWorld(t)
	const good = "127.0.0.44"
	type try struct{ src, user string }
	fails := map[string][]try{
		"smtp": {{"127.0.0.41", alice}, {"127.0.0.41", `x","client_ip":"10.9.9.9`}},
		"imap": {{"127.0.0.42", alice}, {"127.0.0.42", "y client_ip=10.9.9.8"}},
		"pop3": {{"127.0.0.43", alice}, {"127.0.0.43", `z" client_ip=10.9.9.7`}},
	}
	for proto, tries := range fails {
		for _, tr := range tries {
			if got := loginFrom(t, w, proto, tr.src, tr.user, "wrong"); got != loginFailed {
				t.Fatalf("%s login as %q from %s: %s; want failed", proto, tr.user, tr.src, got)
			}
		}
		if got := loginFrom(t, w, proto, good, alice, alicePass); got != loginOK {
			t.Fatalf("%s login from %s: %s", proto, good, got)
		}
	}
	appendOverQuota(t, w, good)
	lines := waitLogLines(t, w, `"msg":"authentication failed"`, 6)

	var want []string // the client IPs of the failure lines, in order
	for _, l := range lines {
		var rec struct {
			ClientIP string `json:"client_ip"`
		}
		checkNoDuplicateKeys(t, l)
		if err := json.Unmarshal([]byte(l), &rec); err == nil && strings.Contains(l, `"msg":"authentication failed"`) {
			want = append(want, rec.ClientIP)
		}
	}
	if got := slices.Sorted(slices.Values(want)); !slices.Equal(got, []string{
		"127.0.0.41", "127.0.0.41", "127.0.0.42", "127.0.0.42", "127.0.0.43", "127.0.0.43"}) {
		t.Fatalf("failure lines name %v", got)
	}
	for format, log := range map[string][]string{"json": lines, "text": textLines(t, lines)} {
		got := runFail2banRegex(t, regex, log)
		if !slices.Equal(got, want) {
			t.Errorf("%s log: fail2ban-regex found %v; want %v", format, got, want)
		}
	}
}

// loginFrom logs in with proto's client from src.
func loginFrom(t *testing.T, w *world, proto, src, user, pass string) string {
	switch proto {
	case "smtp":
		return smtpLoginFrom(t, w, src, user, pass)
	case "imap":
		return imapLoginFrom(t, w, src, user, pass)
	}
	return pop3LoginsFrom(t, w, user, pass, src)[0]
}

// appendOverQuota makes IMAP refuse an APPEND over alice's quota, a path
// that used to log user_id twice.
func appendOverQuota(t *testing.T, w *world, src string) {
	t.Helper()
	mustAdmin(t, w.dataDir, "", "user", "quota", alice, "1KiB")
	c, err := imapclient.NewStartTLS(dialFrom(t, src, w.srv.addr("imap")), &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(alice, alicePass).Wait(); err != nil {
		t.Fatal(err)
	}
	msg := message(alice, alice, "big", strings.Repeat("x", 4096))
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	// The refusal comes in place of the continuation request, so the
	// write of the message may fail with it: Wait says how it ended.
	_, _ = cmd.Write([]byte(msg))
	_ = cmd.Close()
	_, err = cmd.Wait()
	if ie, ok := err.(*imap.Error); !ok || ie.Code != imap.ResponseCodeOverQuota {
		t.Fatalf("APPEND over quota: %v; want NO [OVERQUOTA]", err)
	}
	waitLogLines(t, w, `"msg":"imap append over quota"`, 1)
}

// waitLogLines waits until the server's log holds n lines containing sub
// (the log is read from the process as it writes) and returns all lines.
func waitLogLines(t *testing.T, w *world, sub string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.srv.mu.Lock()
		all := strings.Split(strings.TrimRight(w.srv.log.String(), "\n"), "\n")
		w.srv.mu.Unlock()
		found := 0
		for _, l := range all {
			if strings.Contains(l, sub) {
				found++
			}
		}
		if found >= n {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d log lines with %s, want %d", found, sub, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkNoDuplicateKeys fails if the JSON object line has a key twice at
// its top level: readers keep one of the two values, which one is theirs.
func checkNoDuplicateKeys(t *testing.T, line string) {
	t.Helper()
	seen := map[string]bool{}
	if err := eachAttr(line, func(key string, _ any) {
		if seen[key] {
			t.Errorf("key %q twice in log line %s", key, line)
		}
		seen[key] = true
	}); err != nil {
		t.Errorf("log line %q: %v", line, err)
	}
}

// checkLogKeys checks every line of the server's log so far with
// checkNoDuplicateKeys.
func checkLogKeys(t *testing.T, w *world) {
	t.Helper()
	w.srv.mu.Lock()
	all := strings.Split(strings.TrimRight(w.srv.log.String(), "\n"), "\n")
	w.srv.mu.Unlock()
	for _, l := range all {
		checkNoDuplicateKeys(t, l)
	}
}

// eachAttr calls fn for each top-level key and value of a JSON object, in
// order.
func eachAttr(line string, fn func(key string, v any)) error {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		fn(tok.(string), v)
	}
	return nil
}

// textLines renders the JSON log records with slog's text handler, as
// --log-format text writes them: same time, level, message and attributes
// in the same order.
func textLines(t *testing.T, lines []string) []string {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, l := range lines {
		var r slog.Record
		err := eachAttr(l, func(key string, v any) {
			switch key {
			case "time":
				tm, _ := time.Parse(time.RFC3339Nano, v.(string))
				r.Time = tm
			case "level":
				_ = r.Level.UnmarshalText([]byte(v.(string)))
			case "msg":
				r.Message = v.(string)
			default:
				r.AddAttrs(slog.Any(key, v))
			}
		})
		if err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
}

// runFail2banRegex runs fail2ban-regex with the filter over lines and
// returns the address of each line it matched, in order.
func runFail2banRegex(t *testing.T, regex string, lines []string) []string {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "bucketmail.log")
	if err := os.WriteFile(logFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	filter, err := filepath.Abs(filterPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(regex, "--out", "ip", logFile, filter).CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, out)
	}
	var ips []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			ips = append(ips, l)
		}
	}
	return ips
}

// TestFail2banJail checks the example jail with fail2ban-client's
// configuration test, in a copy of Debian's /etc/fail2ban that holds the
// filter and this jail only (logpath pointed at an existing file).
func TestFail2banJail(t *testing.T) {
	client, err := exec.LookPath("fail2ban-client")
	if err != nil {
		t.Skip("fail2ban-client not found: the fail2ban jail is not checked (install Debian's fail2ban package; make deps does)")
	}
	if _, err := os.Stat("/etc/fail2ban/jail.conf"); err != nil {
		t.Skipf("fail2ban's configuration is not in /etc/fail2ban (%v): the jail is not checked", err)
	}
	dir := filepath.Join(t.TempDir(), "fail2ban")
	if out, err := exec.Command("cp", "-r", "/etc/fail2ban", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying /etc/fail2ban: %v\n%s", err, out)
	}
	jails, _ := filepath.Glob(filepath.Join(dir, "jail.d", "*"))
	for _, j := range jails {
		if err := os.Remove(j); err != nil {
			t.Fatal(err)
		}
	}
	filter, err := os.ReadFile(filterPath)
	if err != nil {
		t.Fatal(err)
	}
	jail, err := os.ReadFile("../infra/fail2ban/jail.d/bucketmail.local")
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "bucketmail.log")
	jail = []byte(strings.Replace(string(jail), "/var/log/bucketmail/bucketmail.log", logFile, 1))
	for name, data := range map[string][]byte{
		"filter.d/bucketmail.conf": filter, "jail.d/bucketmail.local": jail,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(client, "-c", dir, "-t").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration test is successful") {
		t.Fatalf("fail2ban-client -t: %v\n%s", err, out)
	}
	out, err = exec.Command(client, "-c", dir, "-d").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "['add', 'bucketmail', ") {
		t.Fatalf("fail2ban-client -d does not show the bucketmail jail: %v\n%s", err, out)
	}
}
