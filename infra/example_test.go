package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exampleModule is the parsed example root of the Linode module.
func exampleModule(t *testing.T) *module {
	t.Helper()
	for _, m := range parseModules(t, "terraform") {
		if filepath.Base(m.dir) == "example" {
			return m
		}
	}
	t.Fatal("no terraform/linode/example")
	return nil
}

// TestExampleReachesEveryModuleVariable checks that the example root passes
// every variable of the module and declares it with the module's default,
// so a setting the docs tell users to change in terraform.tfvars is not
// ignored ("value for undeclared variable") or silently different.
func TestExampleReachesEveryModuleVariable(t *testing.T) {
	mod, ex := linodeModule(t), exampleModule(t)
	calls := ex.blocks("module")
	if len(calls) != 1 {
		t.Fatalf("example has %d module blocks, want 1", len(calls))
	}
	passed := calls[0].Body.Attributes
	exVars := map[string]*hclsyntax.Block{}
	for _, b := range ex.blocks("variable") {
		exVars[b.Labels[0]] = b
	}
	for _, b := range mod.blocks("variable") {
		name := b.Labels[0]
		if _, ok := passed[name]; !ok {
			t.Errorf("the example does not pass variable %q to the module", name)
		}
		if name == "dns_records" {
			continue // the example takes a file of them (dns_records_file)
		}
		eb, ok := exVars[name]
		if !ok {
			t.Errorf("the example declares no variable %q", name)
			continue
		}
		md, mok := b.Body.Attributes["default"]
		ed, eok := eb.Body.Attributes["default"]
		if mok != eok {
			t.Errorf("variable %q: default in module %v, in example %v", name, mok, eok)
			continue
		}
		if mok {
			mv, _ := md.Expr.Value(nil)
			ev, _ := ed.Expr.Value(nil)
			if !mv.RawEquals(ev) {
				t.Errorf("variable %q: default %#v in module, %#v in example", name, mv, ev)
			}
		}
	}

	// Every setting of terraform.tfvars.example, also the commented ones,
	// is a variable of the example.
	src, err := os.ReadFile("terraform/linode/example/terraform.tfvars.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^#? ?([a-z0-9_]+)\s+=`).FindAllSubmatch(src, -1) {
		if exVars[string(m[1])] == nil {
			t.Errorf("terraform.tfvars.example sets %q, which the example does not declare", m[1])
		}
	}
	f, diags := hclparse.NewParser().ParseHCL(src, "terraform.tfvars.example")
	if diags.HasErrors() {
		t.Fatalf("terraform.tfvars.example: %s", diags.Error())
	}
	attrs, _ := f.Body.JustAttributes()
	if len(attrs) == 0 {
		t.Error("terraform.tfvars.example sets nothing")
	}

	// Every module variable the guide names in backquotes is reachable.
	doc, err := os.ReadFile("../docs/deploy-linode.md")
	if err != nil {
		t.Fatal(err)
	}
	modVars := map[string]bool{}
	for _, b := range mod.blocks("variable") {
		modVars[b.Labels[0]] = true
	}
	for _, m := range regexp.MustCompile("`([a-z0-9_]+)( = [^`]*)?`").FindAllSubmatch(doc, -1) {
		name := string(m[1])
		if modVars[name] && passed[name] == nil {
			t.Errorf("docs/deploy-linode.md mentions %q, which the example does not pass", name)
		}
	}
}
