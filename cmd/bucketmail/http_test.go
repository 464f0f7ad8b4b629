package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/metrics"
)

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	dir := t.TempDir()
	st, bl, err := openStorage(storageConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMetricsHandler(st, bl, metrics.New(), slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) { t.Helper(); return httpGet(t, srv.URL+path) }

	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `bucketmail_queue_jobs{queue="inbound",state="pending"} 0`) {
		t.Errorf("/metrics = %d, missing queue depth:\n%s", code, body)
	}

	// A closed store makes the process unready, not unhealthy.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a closed store = %d, want 503", code)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz with a closed store = %d, want 200", code)
	}
}

// TestMetricsOnlyOnMetricsListener wires both HTTP listeners as a server
// command does: /metrics and /debug/pprof answer on --metrics-addr only,
// the public --http-addr keeps the health checks and the MTA-STS policy.
func TestMetricsOnlyOnMetricsListener(t *testing.T) {
	st, bl, err := openStorage(storageConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &deps{
		cfg:   &config{Hostname: "mx.example.test", HTTPAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", PProf: true},
		log:   slog.New(slog.DiscardHandler),
		store: st, blobs: bl, metrics: metrics.New(),
	}
	if err := st.AddDomain(t.Context(), "example.test"); err != nil {
		t.Fatal(err)
	}
	p := newTestProcess()
	if err := d.wireHTTP(p); err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, l := range p.listeners {
		addrs[l.name] = "http://" + l.ln.Addr().String()
		go l.serve(l.ln)
		t.Cleanup(func() { l.ln.Close() })
	}
	for _, c := range []struct {
		listener, path string
		want           int
	}{
		{"http", "/healthz", 200},
		{"http", "/readyz", 200},
		{"http", "/metrics", 404},
		{"http", "/debug/pprof/", 404},
		{"http", "/debug/pprof/cmdline", 404},
		{"metrics", "/metrics", 200},
		{"metrics", "/debug/pprof/", 200},
		{"metrics", "/healthz", 200},
		{"metrics", "/readyz", 200},
		{"metrics", "/.well-known/mta-sts.txt", 404},
	} {
		if code, _ := httpGet(t, addrs[c.listener]+c.path); code != c.want {
			t.Errorf("%s %s = %d, want %d", c.listener, c.path, code, c.want)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, addrs["http"]+"/.well-known/mta-sts.txt", nil)
	req.Host = "mta-sts.example.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("public MTA-STS policy for a local domain = %d, want 200", resp.StatusCode)
	}
}

func TestMetricsAddrDefaultsToLoopback(t *testing.T) {
	a := &app{lookupEnv: func(string) (string, bool) { return "", false }}
	var cfg config
	fs := newFlagSet("run")
	cfg.register(fs, roles{edge: true, worker: true, gateway: true})
	if _, err := a.parse(fs, "", nil); err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddr != "127.0.0.1:8081" {
		t.Errorf("--metrics-addr default = %q, want loopback", cfg.MetricsAddr)
	}
	cfg.MetricsAddr = cfg.HTTPAddr
	if err := cfg.check(); err == nil {
		t.Error("--metrics-addr equal to --http-addr accepted")
	}
	cfg.MetricsAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0" // two random ports
	if err := cfg.check(); err != nil {
		t.Errorf("two :0 listeners refused: %v", err)
	}
	cfg.MetricsAddr, cfg.HTTPAddr = "", "" // both off
	if err := cfg.check(); err != nil {
		t.Errorf("both listeners off refused: %v", err)
	}
}
