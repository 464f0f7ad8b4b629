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

func TestHTTPEndpoints(t *testing.T) {
	dir := t.TempDir()
	st, bl, err := openStorage(storageConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHTTPHandler(st, bl, metrics.New(), slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
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
