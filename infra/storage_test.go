package infra_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestObjectStorageEndpointFromBucket checks the S3 endpoint is the
// bucket's own (its s3_endpoint): Linode endpoints differ by region and
// endpoint type, and a host built from the region name ("de-fra-2-1...")
// does not exist.
func TestObjectStorageEndpointFromBucket(t *testing.T) {
	m := linodeModule(t)
	for _, path := range m.paths() {
		hclsyntax.VisitAll(m.files[path].Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			if tmpl, ok := n.(*hclsyntax.TemplateExpr); ok && !tmpl.IsStringLiteral() {
				src := string(tmpl.Range().SliceBytes(m.files[path].Bytes))
				if strings.Contains(src, "linodeobjects.com") {
					t.Errorf("%s: an Object Storage host is built by hand: %s", tmpl.Range(), src)
				}
			}
			return nil
		})
	}
	state := fakeState(1, 1, 1)
	want := state["linode_object_storage_bucket"].GetAttr("mail").GetAttr("s3_endpoint").AsString()
	ctx := evalLocals(t, m, moduleVars(t, m, nil), state)
	blobs := ctx.Variables["local"].GetAttr("blobs_url").AsString()
	if !regexp.MustCompile(`[?&]endpoint=` + regexp.QuoteMeta(want) + `(&|$)`).MatchString(blobs) {
		t.Errorf("BUCKETMAIL_BLOBS %q does not use the bucket's s3_endpoint %q", blobs, want)
	}
	ctx = evalLocals(t, m, moduleVars(t, m, map[string]any{"object_storage_endpoint": "s3.example.net"}), state)
	if blobs := ctx.Variables["local"].GetAttr("blobs_url").AsString(); !strings.Contains(blobs, "endpoint=s3.example.net&") {
		t.Errorf("object_storage_endpoint is not used: %s", blobs)
	}
}
