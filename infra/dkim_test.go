package infra_test

import (
	"crypto/x509"
	"encoding/base64"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// runBucketmail runs the built binary with a data directory and returns
// its standard output.
func runBucketmail(t *testing.T, bin, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"BUCKETMAIL_DATA_DIR=" + dataDir}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("bucketmail %v: %v: %s", args, err, stderr)
	}
	return string(out)
}

var dkimListLine = regexp.MustCompile(`(?m)^\S+\s+(\S+)\s+(\S+)\s+\S+\s+\S+\._domainkey\.\S+\. IN TXT (.+)$`)

// TestDKIMRecordsRoundTrip feeds the TXT values `bucketmail dkim list`
// prints (an RSA one is two quoted strings) into dkim_records, and the
// output of `bucketmail dns --format json` into dns_records, and checks the
// module writes each key's value as one unquoted string whose public key
// parses: a literal quote or a stray `" "` breaks every signature check.
func TestDKIMRecordsRoundTrip(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	runBucketmail(t, bin, dataDir, "domain", "add", "example.org")
	runBucketmail(t, bin, dataDir, "dkim", "keygen", "example.org", "--algorithm", "rsa2048")
	runBucketmail(t, bin, dataDir, "dkim", "keygen", "example.org", "--algorithm", "ed25519")
	list := runBucketmail(t, bin, dataDir, "dkim", "list", "example.org")
	dkim := map[string]string{}
	algs := map[string]string{}
	for _, m := range dkimListLine.FindAllStringSubmatch(list, -1) {
		dkim[m[1]], algs[m[1]] = m[3], m[2]
	}
	if len(dkim) != 2 {
		t.Fatalf("want 2 keys in dkim list, got %v from:\n%s", dkim, list)
	}
	if rsa := dkim[selectorOf(algs, "rsa2048")]; !strings.Contains(rsa, `" "`) {
		t.Fatalf("the RSA value is not split into strings, the test proves nothing: %s", rsa)
	}
	dnsJSON := runBucketmail(t, bin, dataDir, "dns", "example.org", "--format", "json", "--hostname", "mx1.example.org")

	m := linodeModule(t)
	state := fakeState(1, 1, 1)
	for name, vars := range map[string]map[string]any{
		"dkim_records": {"dkim_records": dkim},
		"dns_records":  {"dns_records": jsonValue(t, dnsJSON)},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := evalLocals(t, m, moduleVars(t, m, vars), state)
			for sel, alg := range algs {
				checkDKIMValue(t, ctx, sel, alg)
			}
		})
	}
}

func selectorOf(algs map[string]string, alg string) string {
	for sel, a := range algs {
		if a == alg {
			return sel
		}
	}
	return ""
}

// checkDKIMValue checks the TXT record of selector sel the module writes.
func checkDKIMValue(t *testing.T, ctx *hcl.EvalContext, sel, alg string) {
	t.Helper()
	recs := records(ctx, "TXT", sel+"._domainkey")
	if len(recs) != 1 {
		t.Errorf("selector %s: want one TXT record, got %v", sel, recs)
		return
	}
	v := recs[0]["value"]
	if strings.Contains(v, `"`) {
		t.Errorf("selector %s: value has quotes: %s", sel, v)
	}
	_, p, ok := strings.Cut(v, "p=")
	if !ok {
		t.Errorf("selector %s: no p= in %s", sel, v)
		return
	}
	key, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		t.Errorf("selector %s: p= is not base64: %v (%s)", sel, err, v)
		return
	}
	switch alg {
	case "rsa2048":
		if _, err := x509.ParsePKIXPublicKey(key); err != nil {
			t.Errorf("selector %s: RSA public key does not parse: %v", sel, err)
		}
	case "ed25519":
		if len(key) != 32 {
			t.Errorf("selector %s: ed25519 key of %d bytes", sel, len(key))
		}
	}
}
