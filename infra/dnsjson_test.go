package infra_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestDNSJSONFitsTerraformVariable runs `bucketmail dns --format json` and
// checks every field it prints is an attribute of the module's dns_records
// variable type, so its output can be fed to the module as it is.
func TestDNSJSONFitsTerraformVariable(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"BUCKETMAIL_DATA_DIR=" + dataDir}
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("bucketmail %v: %v: %s", args, err, stderr)
		}
		return out
	}
	run("domain", "add", "example.org")
	out := run("dns", "example.org", "--format", "json", "--hostname", "mx1.example.org")
	var recs []map[string]any
	if err := json.Unmarshal(out, &recs); err != nil || len(recs) == 0 {
		t.Fatalf("dns --format json: %v: %s", err, out)
	}

	attrs := dnsRecordsAttributes(t)
	for _, r := range recs {
		for k := range r {
			if !attrs[k] {
				t.Errorf("bucketmail dns prints field %q, which the dns_records variable does not declare (%v)", k, attrs)
			}
		}
		for _, k := range []string{"name", "type", "value"} {
			if _, ok := r[k]; !ok {
				t.Errorf("record %v lacks %q, which dns_records requires", r, k)
			}
		}
		if v, _ := r["value"].(string); r["type"] == "TXT" && strings.HasPrefix(v, `"`) {
			t.Errorf("TXT value with literal quotes: %s", v)
		}
	}
}

// dnsRecordsAttributes reads the attribute names of the object type of
// variable "dns_records" in the Linode module.
func dnsRecordsAttributes(t *testing.T) map[string]bool {
	t.Helper()
	for _, m := range parseModules(t, "terraform") {
		if !strings.HasSuffix(m.dir, "linode") {
			continue
		}
		for _, b := range m.blocks("variable") {
			if b.Labels[0] != "dns_records" {
				continue
			}
			attrs := map[string]bool{}
			hclsyntax.VisitAll(b.Body.Attributes["type"].Expr, func(n hclsyntax.Node) hcl.Diagnostics {
				if obj, ok := n.(*hclsyntax.ObjectConsExpr); ok {
					for _, item := range obj.Items {
						attrs[hcl.ExprAsKeyword(item.KeyExpr)] = true
					}
				}
				return nil
			})
			if len(attrs) == 0 {
				t.Fatal("dns_records has no object type")
			}
			return attrs
		}
	}
	t.Fatal("no variable dns_records in terraform/linode")
	return nil
}
