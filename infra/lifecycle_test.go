package infra_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestSettingsChangesReplaceNoInstance checks that a change of user data
// (release, extra_env, keys, passwords) replaces no instance (the provider
// makes metadata.user_data force a new one: new addresses, PTR and SPF),
// that the Redis data sits on a volume that outlives its instance, and
// that only root can read user data (it carries the secrets) on any host.
func TestSettingsChangesReplaceNoInstance(t *testing.T) {
	m := linodeModule(t)
	instances := 0
	for _, b := range m.blocks("resource") {
		if b.Labels[0] != "linode_instance" {
			continue
		}
		instances++
		var ignored []string
		for _, lc := range b.Body.Blocks {
			if lc.Type != "lifecycle" {
				continue
			}
			if a, ok := lc.Body.Attributes["ignore_changes"]; ok {
				for _, tr := range a.Expr.Variables() {
					ignored = append(ignored, tr.RootName())
				}
				if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
					for _, e := range tup.Exprs {
						ignored = append(ignored, hcl.ExprAsKeyword(e))
					}
				}
			}
		}
		if !slices.Contains(ignored, "metadata") {
			t.Errorf("linode_instance.%s: a change of its user data replaces it (no lifecycle ignore_changes = [metadata])", b.Labels[1])
		}
	}
	if instances < 4 {
		t.Fatalf("found %d instance resources, want 4", instances)
	}

	vol := resourceBlock(t, m, "linode_volume", "redis")
	a, ok := vol.Body.Attributes["linode_id"]
	if !ok {
		t.Fatal("linode_volume.redis is attached to nothing")
	}
	if src := string(a.Expr.Range().SliceBytes(fileBytes(m, a.Expr.Range().Filename))); src != "linode_instance.redis.id" {
		t.Errorf("linode_volume.redis is attached to %s, want linode_instance.redis.id", src)
	}

	redis := renderTemplate(t, "terraform/linode/templates/redis.cloud-init.yaml.tftpl", []string{"redis_conf_b64", "volume_label"})
	for _, want := range []string{"/dev/disk/by-id/scsi-0Linode_Volume_$1", "/var/lib/redis ext4", `[/usr/local/sbin/redis-volume, "sample-volume-label"]`} {
		if !strings.Contains(redis, want) {
			t.Errorf("Redis cloud-init does not mount its volume: no %q", want)
		}
	}
	if strings.Index(redis, "redis-volume, ") > strings.Index(redis, "[systemctl, restart, redis-server]") {
		t.Error("Redis starts before its volume is mounted")
	}
	role := renderTemplate(t, "terraform/linode/templates/bucketmail.cloud-init.yaml.tftpl",
		[]string{"role", "hostname", "short_name", "release_url", "release_sha256", "unit_name", "unit_b64", "env_b64"})
	for name, out := range map[string]string{"redis": redis, "bucketmail": role} {
		for _, want := range []string{
			"ip daddr 169.254.169.254 meta skuid != 0 reject",
			"ip6 daddr fd00:a9fe:a9fe::1 meta skuid != 0 reject",
			"[nft, -f, /etc/nftables.conf]",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s cloud-init: user data readable by every user (no %q)", name, want)
			}
		}
	}

	// What a settings change rolls out is what the instances got.
	var found bool
	for _, b := range m.blocks("output") {
		if b.Labels[0] == "host_env" {
			found = true
			src := string(b.Body.Attributes["value"].Expr.Range().SliceBytes(fileBytes(m, b.Body.Attributes["value"].Expr.Range().Filename)))
			if !strings.Contains(src, "local.host_env.") {
				t.Errorf("output host_env is not local.host_env: %s", src)
			}
		}
	}
	if !found {
		t.Error("no output host_env to roll settings out with")
	}
}

// fileBytes is the source of one file of m.
func fileBytes(m *module, path string) []byte {
	return m.files[path].Bytes
}
