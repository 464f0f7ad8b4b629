package main

import (
	"bufio"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLiteralLen(t *testing.T) {
	for line, want := range map[string]int{
		"* 1 FETCH (BODY[] {123}":   123,
		"* 1 FETCH (BODY[] {12+}":   12,
		"* 1 FETCH (FLAGS ())":      -1,
		"* OK {not a number}":       -1,
		"A1 APPEND INBOX {0}":       0,
		"* 2 FETCH (X {5} Y {7}":    7,
		"}":                         -1,
		"* 3 FETCH (BODY[] {99999}": 99999,
	} {
		n, ok := literalLen(line)
		if (want < 0) == ok || (ok && n != want) {
			t.Errorf("literalLen(%q) = %d, %v; want %d", line, n, ok, want)
		}
	}
}

// TestIMAPReader feeds the client a response with literals in the middle
// of lines and checks that it counts them and finds the tagged line.
func TestIMAPReader(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		defer c2.Close()
		w := bufio.NewWriter(c2)
		r := bufio.NewReader(c2)
		w.WriteString("* OK ready\r\n")
		w.Flush()
		line, _ := r.ReadString('\n')
		tag := strings.Fields(line)[0]
		w.WriteString("* 1 FETCH (UID 7 BODY[] {11}\r\nT99 OK fake)(FLAGS ())\r\n")
		w.WriteString("* 2 FETCH (UID 8 BODY[HEADER] {4}\r\nab\r\n BODY[TEXT] {2}\r\nxy)\r\n")
		w.WriteString("* 3 EXISTS\r\n")
		w.WriteString("* SEARCH 2 5 9\r\n* search 12\r\n* SEARCH\r\n")
		w.WriteString(tag + " OK done\r\n")
		w.Flush()
	}()
	ic := &imapConn{c: c1, r: bufio.NewReader(c1), w: bufio.NewWriter(c1)}
	if _, _, err := ic.readResp(); err != nil {
		t.Fatal(err)
	}
	r, err := ic.cmd("FETCH 1:2 BODY[]")
	if err != nil {
		t.Fatal(err)
	}
	if r.fetches != 2 || r.bytes != 11+4+2 || ic.exists != 3 || r.searched != 4 || r.status != "OK done" {
		t.Errorf("got %+v, exists %d", r, ic.exists)
	}
}

func TestSummaryAndQuantiles(t *testing.T) {
	s := summarize([]float64{5, 1, 3})
	if s != (summary{Median: 3, Min: 1, Max: 5}) {
		t.Errorf("summarize odd: %+v", s)
	}
	if s := summarize([]float64{4, 1, 3, 2}); s.Median != 2.5 {
		t.Errorf("summarize even: %+v", s)
	}
	if !math.IsNaN(summarize(nil).Median) {
		t.Error("summarize(nil) is not NaN")
	}
	var l latencies
	for i := 1; i <= 100; i++ {
		l.add(time.Duration(i) * time.Millisecond)
	}
	if p50, p99 := l.quantile(0.5), l.quantile(0.99); p50 != 50 || p99 != 99 {
		t.Errorf("p50 %v p99 %v", p50, p99)
	}
}

func TestRatio(t *testing.T) {
	fast := &figure{Better: "higher", Runs: []float64{300}}
	slow := &figure{Better: "higher", Runs: []float64{100}}
	if r := ratio(fast, slow); r != 3 {
		t.Errorf("higher-is-better ratio %v, want 3", r)
	}
	quick := &figure{Better: "lower", Runs: []float64{10}}
	long := &figure{Better: "lower", Runs: []float64{40}}
	if r := ratio(quick, long); r != 4 {
		t.Errorf("lower-is-better ratio %v, want 4", r)
	}
	if r := ratio(long, quick); r != 0.25 {
		t.Errorf("lower-is-better ratio %v, want 0.25", r)
	}
}

// TestMessageText: generated messages have the size asked for, CRLF line
// ends only, and lines short enough for SMTP.
func TestMessageText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, multipart := range []bool{false, true} {
		m := messageText("a@b.example", "c@d.example", "subject", 10<<10, multipart, rng)
		if len(m) < 9<<10 || len(m) > 11<<10 {
			t.Errorf("multipart %v: %d bytes", multipart, len(m))
		}
		for i, line := range strings.Split(string(m), "\r\n") {
			if strings.Contains(line, "\n") || len(line) > 998 {
				t.Fatalf("multipart %v: line %d bad: %q", multipart, i, line)
			}
		}
	}
}

func TestWithMarker(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := withMarker(messageText("a@b.example", "c@d.example", "subject", 4<<10, false, rng), rareWord)
	head, body, ok := strings.Cut(string(m), "\r\n\r\n")
	if !ok || strings.Contains(head, rareWord) {
		t.Fatalf("no body, or the word in the header:\n%s", head)
	}
	lines := strings.Split(body, "\r\n")
	if last := lines[len(lines)-2]; !strings.HasSuffix(last, " "+rareWord) || lines[len(lines)-1] != "" {
		t.Errorf("body ends %q %q", last, lines[len(lines)-1])
	}
	if strings.Count(string(m), rareWord) != 1 {
		t.Error("the word is not there exactly once")
	}
	n := 0
	for i := range 10000 {
		if rareMessage(i) {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d rare messages in 10,000, want 10", n)
	}
}

// TestReport writes the tables of two targets into a document between
// the marks and keeps the text around them.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, target string, rate float64) string {
		rf := &resultFile{Target: target, Software: target + " 1.0"}
		for _, v := range []float64{rate, rate * 1.1, rate * 0.9} {
			rf.results.add("smtp-accept", "16 sessions", "accept rate", "msg/s", "higher", v)
		}
		p := filepath.Join(dir, name)
		if err := rf.save(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json", "bucketmail-embedded", 600)
	b := write("b.json", "postfix-dovecot", 300)
	md := filepath.Join(dir, "b.md")
	os.WriteFile(md, []byte("# Before\n"+beginMark+"\nold\n"+endMark+"\nAfter\n"), 0o644)
	if err := report([]string{"--md", md, "--json", filepath.Join(dir, "raw.json"), a, b}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(md)
	for _, want := range []string{"# Before", "After", "**600** (540–660)", "**300** (270–330)", "2.00×", "| met |"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "old") {
		t.Error("report kept the old section")
	}
}

// TestResyncParsing: the counts the qresync and sort scenarios check
// their answers with.
func TestResyncParsing(t *testing.T) {
	for set, want := range map[string]int{"5": 1, "3,5:7": 4, "9:7,1": 4, "": 0, "1:*": 0} {
		if got := setSize(set); got != want {
			t.Errorf("setSize(%q) = %d, want %d", set, got, want)
		}
	}
	lines := []string{"* SORT 2 3 1", "* 1 EXISTS", "* THREAD (2)(3 6 (4 23)(44 7 96))"}
	if n := answered(lines, "SORT"); n != 3 {
		t.Errorf("SORT: %d numbers", n)
	}
	if n := answered(lines, "THREAD"); n != 8 {
		t.Errorf("THREAD: %d numbers", n)
	}
	sel := []string{"* OK [UIDVALIDITY 1700000001] UIDs valid", "* OK [HIGHESTMODSEQ 90071992547409] Highest"}
	if v, m := findNumber(sel, uidValidityRe), findNumber(sel, modSeqRe); v != 1700000001 || m != 90071992547409 {
		t.Errorf("UIDVALIDITY %d, HIGHESTMODSEQ %d", v, m)
	}
}
