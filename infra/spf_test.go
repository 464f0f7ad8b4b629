package infra_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// records returns the zone records the module writes (local.all_records),
// of type typ and relative name name ("*" for any).
func records(ctx *hcl.EvalContext, typ, name string) []map[string]string {
	var out []map[string]string
	all := ctx.Variables["local"].GetAttr("all_records")
	for it := all.ElementIterator(); it.Next(); {
		_, r := it.Element()
		if r.GetAttr("type").AsString() != typ || (name != "*" && r.GetAttr("name").AsString() != name) {
			continue
		}
		rec := map[string]string{}
		for k, v := range r.AsValueMap() {
			if !v.IsNull() && v.Type() == cty.String {
				rec[k] = v.AsString()
			}
		}
		out = append(out, rec)
	}
	return out
}

// spfRecord is the single SPF record of the apex.
func spfRecord(t *testing.T, ctx *hcl.EvalContext) string {
	t.Helper()
	var spf []string
	for _, r := range records(ctx, "TXT", "") {
		if strings.HasPrefix(r["value"], "v=spf1") {
			spf = append(spf, r["value"])
		}
	}
	if len(spf) != 1 {
		t.Fatalf("want one SPF record at the apex, got %q", spf)
	}
	return spf[0]
}

// TestSPFKeepsRelayAndGivenMechanisms checks that the SPF record the
// module writes authorizes a relay and keeps the mechanisms users add or
// pass in dns_records: relayed mail fails SPF otherwise.
func TestSPFKeepsRelayAndGivenMechanisms(t *testing.T) {
	m := linodeModule(t)
	state := fakeState(1, 2, 1)
	for _, c := range []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"plain", nil, []string{"v=spf1 mx ip4:198.51.100.60 ip4:198.51.100.61 ip6:2001:db8::6:0 ip6:2001:db8::6:1 -all"}},
		{"relay host", map[string]any{"extra_env": map[string]string{"BUCKETMAIL_RELAY_HOST": "smtp.relay.example:2525"}},
			[]string{" a:smtp.relay.example -all"}},
		{"relay address", map[string]any{"extra_env": map[string]string{"BUCKETMAIL_RELAY_HOST": "[2001:db8::25]:2525"}},
			[]string{" ip6:2001:db8::25 -all"}},
		{"relay spf", map[string]any{
			"extra_env": map[string]string{"BUCKETMAIL_RELAY_HOST": "smtp.relay.example:2525"},
			"relay_spf": "include:_spf.relay.example"},
			[]string{" include:_spf.relay.example -all"}},
		{"spf_mechanisms", map[string]any{"spf_mechanisms": []string{"include:_spf.other.example"}},
			[]string{" include:_spf.other.example -all"}},
		{"given record", map[string]any{"dns_records": jsonValue(t,
			`[{"name": "example.org.", "type": "TXT", "value": "\"v=spf1 mx include:_spf.given.example a:relay.small ~all\""}]`)}, []string{" include:_spf.given.example a:relay.small -all"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spf := spfRecord(t, evalLocals(t, m, moduleVars(t, m, c.vars), state))
			for _, w := range c.want {
				if !strings.Contains(spf, w) {
					t.Errorf("SPF %q lacks %q", spf, w)
				}
			}
			alls := 0
			for _, f := range strings.Fields(spf) {
				if strings.TrimLeft(f, "+-~?") == "all" {
					alls++
				}
			}
			if !strings.HasPrefix(spf, "v=spf1 mx ") || !strings.HasSuffix(spf, " -all") || alls != 1 {
				t.Errorf("SPF %q: want v=spf1 mx first and one -all", spf)
			}
		})
	}
}
