package infra_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// sampleValue is what a template variable is rendered with: valid base64
// for the *_b64 ones (cloud-init decodes them), a plain word otherwise.
func sampleValue(name string) string {
	if strings.HasSuffix(name, "_b64") {
		return base64.StdEncoding.EncodeToString([]byte("sample " + name + "\n"))
	}
	if strings.HasSuffix(name, "sha256") {
		return strings.Repeat("ab", 32)
	}
	return "sample-" + strings.ReplaceAll(name, "_", "-")
}

// renderTemplate evaluates a templatefile template the way Terraform does
// (it is HCL template syntax) with vars, after checking that the template
// uses exactly those variables.
func renderTemplate(t *testing.T, path string, vars []string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expr, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", path, diags.Error())
	}
	var used []string
	for _, tr := range expr.Variables() {
		if !slices.Contains(used, tr.RootName()) {
			used = append(used, tr.RootName())
		}
	}
	for _, u := range used {
		if !slices.Contains(vars, u) {
			t.Errorf("%s uses ${%s}, which templatefile does not pass", path, u)
		}
	}
	for _, v := range vars {
		if !slices.Contains(used, v) {
			t.Errorf("templatefile passes %q, which %s does not use", v, path)
		}
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}}
	for _, v := range vars {
		ctx.Variables[v] = cty.StringVal(sampleValue(v))
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("%s: render: %s", path, diags.Error())
	}
	return val.AsString()
}

// TestCloudInitTemplatesRender renders every templatefile call of the
// Terraform modules and checks the result is cloud-config YAML with no
// placeholder left.
func TestCloudInitTemplatesRender(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range parseModules(t, "terraform") {
		for _, c := range templateCalls(t, m) {
			path := filepath.Join(m.dir, c.path)
			seen[path] = true
			out := renderTemplate(t, path, c.vars)
			if !strings.HasPrefix(out, "#cloud-config\n") {
				t.Errorf("%s (%s): does not start with #cloud-config", path, c.where)
			}
			if strings.Contains(out, "${") || strings.Contains(out, "%{") {
				t.Errorf("%s: a placeholder is left after rendering", path)
			}
			var doc struct {
				WriteFiles []struct {
					Path, Content, Encoding, Permissions string
				} `yaml:"write_files"`
				RunCmd []any `yaml:"runcmd"`
			}
			if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
				t.Errorf("%s: rendered YAML does not parse: %v", path, err)
				continue
			}
			if len(doc.WriteFiles) == 0 || len(doc.RunCmd) == 0 {
				t.Errorf("%s: no write_files or runcmd", path)
			}
			for _, f := range doc.WriteFiles {
				if f.Encoding == "b64" {
					if _, err := base64.StdEncoding.DecodeString(f.Content); err != nil {
						t.Errorf("%s: %s: content is not base64: %v", path, f.Path, err)
					}
				}
				if f.Permissions == "" {
					t.Errorf("%s: %s: no permissions", path, f.Path)
				}
			}
		}
	}
	tmpls, err := filepath.Glob("terraform/*/templates/*.tftpl")
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpls) == 0 {
		t.Fatal("no templates found")
	}
	for _, p := range tmpls {
		if !seen[p] {
			t.Errorf("template %s is not used by any templatefile call", p)
		}
	}
}

// TestBucketmailCloudInitWritesUnitAndEnv checks the role template installs
// the binary from the release URL, checks its hash and starts the unit.
func TestBucketmailCloudInitWritesUnitAndEnv(t *testing.T) {
	vars := []string{"role", "hostname", "short_name", "release_url", "release_sha256", "unit_name", "unit_b64", "env_b64"}
	out := renderTemplate(t, "terraform/linode/templates/bucketmail.cloud-init.yaml.tftpl", vars)
	for _, want := range []string{
		"path: /etc/bucketmail/env", `permissions: "0600"`,
		"path: /etc/systemd/system/sample-unit-name",
		"sha256sum -c", "sample-release-url", strings.Repeat("ab", 32),
		"[systemctl, enable, --now, \"sample-unit-name\"]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered cloud-init lacks %q", want)
		}
	}
}
