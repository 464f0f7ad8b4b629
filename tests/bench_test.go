package e2e

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
)

// TestBenchHarness runs the load generator of `make bench` (cmd/bmbench)
// against the built binary with tiny sizes: every scenario must run to
// the end, find every message it sent, and the report must carry every
// figure. It checks the harness, not the speed.
func TestBenchHarness(t *testing.T) {
	dir := t.TempDir()
	bm := filepath.Join(dir, "bmbench")
	if out, err := exec.Command("go", "build", "-o", bm, "../cmd/bmbench").CombinedOutput(); err != nil {
		t.Fatalf("building bmbench: %v\n%s", err, out)
	}
	dns := authchecktest.Start(t)
	data := t.TempDir()
	tiny := []string{"--sink-users", "2", "--mix-users", "2"}
	out, err := exec.Command(bm, append([]string{"users"}, tiny...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	users := strings.Fields(string(out))
	if len(users) != 4+2+2+3 {
		t.Fatalf("bmbench users: %q", users)
	}
	mustAdmin(t, data, "", "domain", "add", "bench.test")
	for _, u := range users {
		mustAdmin(t, data, "bench-password\n", "user", "add", u, "--password-stdin")
	}
	srv := startServer(t, data, "run",
		"--smtp-addr", "127.0.0.1:0", "--submission-addr", "", "--submissions-addr", "",
		"--imap-addr", "127.0.0.1:0", "--imaps-addr", "", "--pop3-addr", "127.0.0.1:0", "--pop3s-addr", "", "--managesieve-addr", "",
		"--http-addr", "", "--allow-insecure-auth", "--limit-conn-per-ip-minute", "0",
		"--limit-auth-failures", "0", "--dns-resolver", dns.Addr)
	results := filepath.Join(dir, "embedded.json")
	target := []string{"--target", "bucketmail-embedded", "--out", results, "--runs", "1",
		"--smtp", srv.addr("smtp"), "--imap", srv.addr("imap"), "--pop3", srv.addr("pop3"),
		"--metrics", "http://" + srv.addr("metrics") + "/metrics"}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bm, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bmbench %s: %v\n%s", args[0], err, out)
		}
	}
	run(append(append([]string{"suite"}, target...), append(tiny,
		"--smtp-messages", "40", "--sessions", "1,4", "--sync-messages", "60", "--pop3-messages", "15",
		"--mix-messages", "10", "--clients", "1,2", "--mix-duration", "1s", "--e2e-duration", "1s")...)...)
	run(append([]string{"mem", "--conns", "20", "--pid", strconv.Itoa(srv.cmd.Process.Pid)}, target...)...)

	var rf struct {
		Figures []struct {
			Scenario, Param, Metric string
			Runs                    []float64
		}
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range rf.Figures {
		if len(f.Runs) != 1 {
			t.Errorf("%s/%s/%s: %d runs", f.Scenario, f.Param, f.Metric, len(f.Runs))
			continue
		}
		got[f.Scenario+"/"+f.Param+"/"+f.Metric] = f.Runs[0]
	}
	for _, k := range []string{
		"smtp-accept/1 sessions/accept rate", "smtp-accept/4 sessions/latency p99",
		"imap-sync/60 messages/UID FETCH 1:*", "imap-mixed/2 clients/operations",
		"imap-mixed/2 clients/FETCH BODY[] p50", "pop3-retr/15 messages/total",
	} {
		if v, ok := got[k]; !ok || !(v > 0) {
			t.Errorf("figure %q: %v (present: %v)", k, v, ok)
		}
	}
	// Postfix's smtp-source drives the same accept runs where it is
	// installed (the postfix package); without it the scenario is skipped.
	if _, err := exec.LookPath("smtp-source"); err == nil {
		for _, k := range []string{"smtp-accept-smtp-source/4 sessions/accept rate", "smtp-accept-smtp-source/4 sessions/accepted to delivered, all"} {
			if v, ok := got[k]; !ok || !(v > 0) {
				t.Errorf("figure %q: %v (present: %v)", k, v, ok)
			}
		}
	}
	for k, v := range got {
		if strings.HasPrefix(k, "imap-qresync/") || strings.HasPrefix(k, "imap-sort/") {
			t.Logf("%s: %v", k, v)
		}
	}
	// QRESYNC, SORT and THREAD: measured where advertised, reported as
	// not advertised otherwise; the full resync is measured either way and
	// reads no object (invariant 5).
	const resync = "imap-qresync/60 messages, 6 changed, 1 expunged/"
	for _, k := range []string{resync + "QRESYNC advertised", "imap-sort/60 messages/SORT advertised", "imap-sort/60 messages/THREAD=REFERENCES advertised"} {
		if v, ok := got[k]; !ok || (v != 0 && v != 1) {
			t.Errorf("figure %q: %v (present: %v)", k, v, ok)
		}
	}
	for _, k := range []string{resync + "full resync, time", resync + "full resync, bytes sent"} {
		if v, ok := got[k]; !ok || !(v > 0) {
			t.Errorf("figure %q: %v (present: %v)", k, v, ok)
		}
	}
	if v, ok := got[resync+"full resync, object bytes read"]; !ok || v != 0 {
		t.Errorf("full resync read %v object bytes (present: %v), want 0", v, ok)
	}
	if got[resync+"QRESYNC advertised"] == 1 {
		if v := got[resync+"QRESYNC, time"]; !(v > 0) {
			t.Errorf("QRESYNC advertised, resync not measured: %v", v)
		}
	}
	if got["imap-sort/60 messages/SORT advertised"] == 1 {
		if v := got["imap-sort/60 messages/SORT DATE"]; !(v > 0) {
			t.Errorf("SORT advertised, not measured: %v", v)
		}
	}
	// 20 connections move the RSS of a process that just ran the suite by
	// less than what the runtime returns to the system meanwhile: the
	// figure must be there and a number, but may be below zero.
	if v, ok := got["memory/20 connections/RSS per idle IMAP connection"]; !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Errorf("memory figure: %v (present: %v)", v, ok)
	}
	e2e := false
	for k := range got {
		e2e = e2e || strings.HasPrefix(k, "e2e/")
	}
	if !e2e {
		t.Error("no end-to-end figure")
	}

	md := filepath.Join(dir, "benchmarks.md")
	doc, err := os.ReadFile("../docs/benchmarks.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(md, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	run("report", "--md", md, "--json", filepath.Join(dir, "raw.json"), results)
	report, _ := os.ReadFile(md)
	if !strings.Contains(string(report), "| 60 messages | UID FETCH 1:* | ms |") {
		t.Errorf("the report lacks the sync figure:\n%s", report)
	}
}
