package infra_test

import (
	"slices"
	"testing"
)

// TestOneMXPerEdge checks, for the built-in records and for those of
// `bucketmail dns --format json` (which names one host), that every edge
// is an MX and the client CNAMEs name the NodeBalancer's service name.
func TestOneMXPerEdge(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	runBucketmail(t, bin, dataDir, "domain", "add", "example.org")
	dnsJSON := runBucketmail(t, bin, dataDir, "dns", "example.org", "--format", "json", "--hostname", "mx1.example.org")

	m := linodeModule(t)
	for name, vars := range map[string]map[string]any{
		"built-in":    {"edge_count": 2},
		"dns_records": {"edge_count": 2, "dns_records": jsonValue(t, dnsJSON)},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := evalLocals(t, m, moduleVars(t, m, vars), fakeState(2, 1, 1))
			var mx []string
			for _, r := range records(ctx, "MX", "*") {
				if r["name"] != "" {
					t.Errorf("MX record at %q, want the apex", r["name"])
				}
				mx = append(mx, r["value"])
			}
			slices.Sort(mx)
			if want := []string{"mx1.example.org", "mx2.example.org"}; !slices.Equal(mx, want) {
				t.Errorf("MX targets %q, want %q", mx, want)
			}
			for _, r := range records(ctx, "CNAME", "*") {
				if r["value"] != "mail.example.org" {
					t.Errorf("CNAME %s points to %s, want mail.example.org", r["name"], r["value"])
				}
			}
			if n := len(records(ctx, "CNAME", "autoconfig")); n != 1 {
				t.Errorf("%d autoconfig CNAMEs, want 1", n)
			}
		})
	}
}

// TestMTASTSRecordOptional checks the MTA-STS TXT record can be left out
// (the guide says to, until an HTTPS server serves the policy).
func TestMTASTSRecordOptional(t *testing.T) {
	m := linodeModule(t)
	ctx := evalLocals(t, m, moduleVars(t, m, nil), fakeState(1, 1, 1))
	if n := len(records(ctx, "TXT", "_mta-sts")); n != 1 {
		t.Errorf("default: %d _mta-sts records, want 1", n)
	}
	ctx = evalLocals(t, m, moduleVars(t, m, map[string]any{"mta_sts_id": ""}), fakeState(1, 1, 1))
	if n := len(records(ctx, "TXT", "_mta-sts")); n != 0 {
		t.Errorf(`mta_sts_id = "": %d _mta-sts records, want 0`, n)
	}
}
