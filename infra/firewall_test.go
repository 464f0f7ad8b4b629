package infra_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestFirewallRulesNeverEmpty evaluates every firewall rule's address lists
// with admin CIDRs of one family, both, or none: the provider refuses a
// rule whose ipv4 or ipv6 list is empty ("must contain at least 1
// elements"), so an absent family must be null.
func TestFirewallRulesNeverEmpty(t *testing.T) {
	m := linodeModule(t)
	for name, cidrs := range map[string][]string{
		"ipv4 only": {"203.0.113.7/32"},
		"ipv6 only": {"2001:db8::/64"},
		"both":      {"203.0.113.7/32", "2001:db8::/64"},
		"none":      {},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := evalLocals(t, m, moduleVars(t, m, map[string]any{"admin_cidrs": cidrs}), fakeState(2, 2, 2))
			rules := 0
			for _, b := range m.blocks("resource") {
				if b.Labels[0] != "linode_firewall" {
					continue
				}
				for _, rule := range firewallRules(b.Body) {
					rules++
					for _, fam := range []string{"ipv4", "ipv6"} {
						v, ok := attrValue(t, ctx, rule, fam)
						if !ok || v.IsNull() || !v.IsKnown() {
							continue
						}
						if v.LengthInt() == 0 {
							t.Errorf("%s: %s is an empty list with admin_cidrs %v", rule.SrcRange, fam, cidrs)
						}
					}
				}
			}
			if rules == 0 {
				t.Fatal("no firewall rules found")
			}
		})
	}
}

// firewallRules returns the bodies of the inbound and outbound rules of a
// firewall, the content of dynamic ones included.
func firewallRules(body *hclsyntax.Body) []*hclsyntax.Body {
	var out []*hclsyntax.Body
	for _, b := range body.Blocks {
		switch {
		case b.Type == "inbound" || b.Type == "outbound":
			out = append(out, b.Body)
		case b.Type == "dynamic":
			for _, c := range b.Body.Blocks {
				if c.Type == "content" {
					out = append(out, c.Body)
				}
			}
		}
	}
	return out
}
