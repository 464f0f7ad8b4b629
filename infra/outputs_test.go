package infra_test

import (
	"os"
	"regexp"
	"testing"
)

// TestDocsUseExampleOutputs checks every `terraform output NAME` of the
// guide and the example is an output of the example root.
func TestDocsUseExampleOutputs(t *testing.T) {
	outputs := map[string]bool{}
	for _, b := range exampleModule(t).blocks("output") {
		outputs[b.Labels[0]] = true
	}
	use := regexp.MustCompile(`terraform output (?:-[a-z]+ )*([a-z0-9_]+)`)
	n := 0
	for _, path := range []string{"../docs/deploy-linode.md", "terraform/linode/example/outputs.tf", "terraform/linode/example/main.tf"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range use.FindAllSubmatch(src, -1) {
			n++
			if !outputs[string(m[1])] {
				t.Errorf("%s uses `terraform output %s`, which the example does not declare", path, m[1])
			}
		}
	}
	if n == 0 {
		t.Fatal("no terraform output commands found")
	}
}
