package infra_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unitDirectives parses a systemd unit into directive → values (a
// directive may repeat).
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: not a directive: %q", path, line)
			continue
		}
		d[k] = append(d[k], v)
	}
	return d
}

func TestSystemdUnits(t *testing.T) {
	units := map[string]struct {
		command  string
		lowPorts bool // binds ports below 1024
	}{
		"bucketmail-edge.service":    {"edge", true},
		"bucketmail-worker.service":  {"worker", false},
		"bucketmail-gateway.service": {"gateway", true},
		"bucketmail.service":         {"run", true},
	}
	files, err := filepath.Glob("systemd/*.service")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(units) {
		t.Errorf("systemd/ has %d units, want %d", len(files), len(units))
	}
	for name, want := range units {
		t.Run(name, func(t *testing.T) {
			d := unitDirectives(t, filepath.Join("systemd", name))
			one := func(k string) string {
				if len(d[k]) != 1 {
					t.Errorf("%s: %d values, want 1", k, len(d[k]))
					return ""
				}
				return d[k][0]
			}
			if got := one("ExecStart"); got != "/usr/local/bin/bucketmail "+want.command {
				t.Errorf("ExecStart=%s", got)
			}
			for k, v := range map[string]string{
				"DynamicUser": "yes", "StateDirectory": "bucketmail", "ProtectSystem": "strict",
				"NoNewPrivileges": "yes", "PrivateTmp": "yes",
				"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
			} {
				if got := one(k); got != v {
					t.Errorf("%s=%s, want %s", k, got, v)
				}
			}
			if !slices.Contains(d["SystemCallFilter"], "@system-service") {
				t.Errorf("SystemCallFilter=%v lacks @system-service", d["SystemCallFilter"])
			}
			if !slices.Contains(d["EnvironmentFile"], "/etc/bucketmail/env") {
				t.Errorf("EnvironmentFile=%v lacks /etc/bucketmail/env", d["EnvironmentFile"])
			}
			caps := strings.Join(append(d["AmbientCapabilities"], d["CapabilityBoundingSet"]...), " ")
			if want.lowPorts {
				if one("AmbientCapabilities") != "CAP_NET_BIND_SERVICE" || one("CapabilityBoundingSet") != "CAP_NET_BIND_SERVICE" {
					t.Errorf("binds ports below 1024: wants exactly CAP_NET_BIND_SERVICE, has %q", caps)
				}
			} else {
				if strings.Contains(caps, "CAP_") {
					t.Errorf("binds no port below 1024 but has capabilities %q", caps)
				}
				if one("CapabilityBoundingSet") != "" {
					t.Error("CapabilityBoundingSet must be empty")
				}
			}
		})
	}
}
