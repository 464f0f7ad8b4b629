package main

import (
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	code, out, errOut := runCmd(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "bucketmail "+version+" ") || strings.Count(out, "\n") != 1 {
		t.Errorf("version: code %d, out %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runCmd(t, "", nil, "version", "extra"); code != exitUsage {
		t.Errorf("version extra: code %d, want %d", code, exitUsage)
	}
}

// TestWorkerDrainExits runs `bucketmail worker --drain` in-process on an
// empty store: it must end by itself with exit code 0.
func TestWorkerDrainExits(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir(), "BUCKETMAIL_DRAIN": "true"}
	code, _, errOut := runCmd(t, "", env, "worker", "--http-addr", "", "--metrics-addr", "", "--log-format", "text")
	if code != 0 {
		t.Fatalf("worker --drain: code %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "queues drained") {
		t.Errorf("log does not say the queues were drained: %s", errOut)
	}
	// Only the worker command has --drain.
	if code, _, _ := runCmd(t, "", env, "run", "-h"); code != 0 {
		t.Errorf("run -h with BUCKETMAIL_DRAIN set: code %d", code)
	}
	if code, _, _ := runCmd(t, "", nil, "run", "--drain"); code != exitUsage {
		t.Errorf("run --drain: code %d, want %d", code, exitUsage)
	}
}
