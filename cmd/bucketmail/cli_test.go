package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/worker"
)

// runCmd runs the program in-process with an empty environment plus env.
func runCmd(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin:     strings.NewReader(stdin),
		stdout:    &out,
		stderr:    &errb,
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	code = a.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// oneLine checks that stderr is exactly one line starting with prefix.
func wantOneLine(t *testing.T, stderr, prefix string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, prefix) {
		t.Errorf("stderr = %q, want one line starting with %q", stderr, prefix)
	}
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, "", nil, "help")
	if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "gateway") {
		t.Errorf("help: code %d, out %q", code, out)
	}
	code, out, _ = runCmd(t, "", nil, "run", "-h")
	if code != 0 || !strings.Contains(out, "-smtp-addr") || !strings.Contains(out, "-worker-lease") {
		t.Errorf("run -h: code %d, out %q", code, out)
	}
	code, _, errOut := runCmd(t, "", nil)
	if code != exitUsage || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no args: code %d", code)
	}
	code, _, errOut = runCmd(t, "", nil, "frobnicate")
	if code != exitUsage {
		t.Errorf("unknown command: code %d", code)
	}
	wantOneLine(t, errOut, `bucketmail: unknown command "frobnicate"`)
	code, _, errOut = runCmd(t, "", nil, "run", "--no-such-flag")
	if code != exitUsage {
		t.Errorf("bad flag: code %d", code)
	}
	wantOneLine(t, errOut, "bucketmail: run: flag provided but not defined")
}

func TestUnknownStoreScheme(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "", nil, "domain", "list", "--data-dir", dir, "--store", "mysql://localhost:3306")
	if code != exitError {
		t.Errorf("code %d, want %d", code, exitError)
	}
	wantOneLine(t, errOut, `bucketmail: domain: list: store URL "mysql://localhost:3306": unsupported scheme "mysql" (supported: sqlite://, redis://, rediss://)`)
	code, _, errOut = runCmd(t, "", nil, "domain", "list", "--data-dir", dir, "--blobs", "gs://bucket")
	if code != exitError {
		t.Errorf("code %d, want %d", code, exitError)
	}
	wantOneLine(t, errOut, `bucketmail: domain: list: blob URL "gs://bucket": unsupported scheme "gs" (supported: file://, s3://)`)
}

func TestAdminCommandsInProcess(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, stdin, env, args...)
		if code != 0 {
			t.Fatalf("%v: code %d: %s", args, code, errOut)
		}
		return out
	}
	fail := func(wantCode int, prefix string, args ...string) {
		t.Helper()
		code, _, errOut := runCmd(t, "", env, args...)
		if code != wantCode {
			t.Errorf("%v: code %d, want %d (%s)", args, code, wantCode, errOut)
		}
		wantOneLine(t, errOut, prefix)
	}

	must("", "domain", "add", "Example.ORG")
	fail(exitError, "bucketmail: domain: add: domain example.org already exists", "domain", "add", "example.org")
	fail(exitError, "bucketmail: user: add: domain nowhere.test does not exist", "user", "add", "a@nowhere.test", "--password-stdin")
	fail(exitUsage, "bucketmail: user: add: want one ADDRESS", "user", "add")
	fail(exitError, `bucketmail: user: add: store: address "not-an-address": no @`, "user", "add", "not-an-address")
	fail(exitUsage, "bucketmail: user: missing subcommand", "user")

	if out := must("s3cret\n", "user", "add", "alice@example.org", "--password-stdin"); out != "" {
		t.Errorf("user add --password-stdin printed %q", out)
	}
	out := must("", "user", "add", "bob@example.org")
	if !strings.HasPrefix(out, "password: ") || len(strings.TrimSpace(strings.TrimPrefix(out, "password: "))) < 12 {
		t.Errorf("user add printed %q, want a generated password", out)
	}
	fail(exitError, "bucketmail: user: add: alice@example.org already exists", "user", "add", "alice@example.org")
	if out := must("", "user", "list"); !strings.Contains(out, "alice@example.org") || !strings.Contains(out, "bob@example.org") {
		t.Errorf("user list = %q", out)
	}
	must("new-pass\n", "user", "passwd", "alice@example.org", "--password-stdin")
	fail(exitError, "bucketmail: user: passwd: user carol@example.org does not exist", "user", "passwd", "carol@example.org")

	must("", "alias", "add", "sales@example.org", "alice@example.org", "bob@example.org")
	must("", "alias", "add", "@example.org", "alice@example.org")
	out = must("", "alias", "list")
	if !strings.Contains(out, "sales@example.org alice@example.org bob@example.org\n") || !strings.Contains(out, "@example.org alice@example.org\n") {
		t.Errorf("alias list = %q", out)
	}
	fail(exitError, "bucketmail: domain: del: domain example.org still has users or aliases", "domain", "del", "example.org")
	must("", "alias", "del", "sales@example.org")
	fail(exitError, "bucketmail: alias: del: alias sales@example.org does not exist", "alias", "del", "sales@example.org")

	out = must("", "queue", "--json")
	var rep queueReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Queues) != 2 {
		t.Errorf("queue --json = %q (%v)", out, err)
	}
	if out := must("", "queue"); !strings.Contains(out, "inbound") {
		t.Errorf("queue = %q", out)
	}

	must("", "user", "del", "bob@example.org")
	fail(exitError, "bucketmail: user: del: user bob@example.org does not exist", "user", "del", "bob@example.org")
	must("", "alias", "del", "@example.org")
	must("", "user", "del", "alice@example.org")
	must("", "domain", "del", "example.org")
	if out := must("", "domain", "list"); out != "" {
		t.Errorf("domain list after deleting everything = %q", out)
	}
}

func TestQueueShowsDeadJobs(t *testing.T) {
	dir := t.TempDir()
	st, _, err := openStorage(storageConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job := store.Job{
		ID: "01J00000000000000000000000", Queue: store.QueueInbound, BlobKey: "msg/01J00000000000000000000000",
		From: "a@remote.example", To: []string{"b@example.org"}, ReceivedAt: time.Now(),
	}
	if err := st.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.Claim(ctx, store.QueueInbound, "test", 1, time.Second, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %v, %v", claimed, err)
	}
	if err := st.Bury(ctx, claimed[0], "mailbox\nexploded"); err != nil {
		t.Fatal(err)
	}
	fwd := store.Job{
		ID: "01J00000000000000000000001", Queue: store.QueueOutbound, BlobKey: "msg/01J00000000000000000000001",
		From: "SRS0=abcdef=AA=remote.example=a@example.org", To: []string{"c@elsewhere.example"},
		ReceivedAt: time.Now(), Auth: worker.ForwardAuth + "fwd@example.org",
	}
	if err := st.Enqueue(ctx, fwd); err != nil {
		t.Fatal(err)
	}
	if claimed, err = st.Claim(ctx, store.QueueOutbound, "test", 1, time.Second, time.Minute); err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %v, %v", claimed, err)
	}
	if err := st.Bury(ctx, claimed[0], "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCmd(t, "", nil, "queue", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("queue: %d %s", code, errOut)
	}
	for _, want := range []string{"inbound   0", "Dead jobs in inbound:", job.ID, "a@remote.example", "b@example.org", "mailbox exploded",
		"Dead jobs in outbound:", fwd.ID + "  forward fwd@example.org  "} {
		if !strings.Contains(out, want) {
			t.Errorf("queue output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, "", nil, "queue", "--json", "--data-dir", dir)
	var rep queueReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatalf("queue --json: %d %v", code, err)
	}
	in := rep.Queues[0]
	if in.Name != "inbound" || in.Dead != 1 || len(in.DeadJobs) != 1 || in.DeadJobs[0].LastError != "mailbox\nexploded" || in.DeadJobs[0].Kind != "mx" {
		t.Errorf("queue --json inbound = %+v", in)
	}
	if out := rep.Queues[1]; len(out.DeadJobs) != 1 || out.DeadJobs[0].Kind != "forward" || out.DeadJobs[0].Via != "fwd@example.org" {
		t.Errorf("queue --json outbound = %+v", out)
	}
}

func TestLoggerFormats(t *testing.T) {
	var b bytes.Buffer
	log, err := newLogger(&b, "", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hello", "k", "v")
	if !strings.HasPrefix(b.String(), `{"time":`) {
		t.Errorf("default format for a non-terminal = %q, want JSON", b.String())
	}
	b.Reset()
	log, _ = newLogger(&b, "text", "warn")
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), "msg=shown") {
		t.Errorf("text logger at warn wrote %q", b.String())
	}
	if _, err := newLogger(&b, "", "loud"); err == nil {
		t.Error("newLogger accepted level loud")
	}
}
