package servers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRoot(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "go.mod")); err != nil {
		t.Fatalf("repoRoot() = %s without tools/go.mod: %v", root, err)
	}
}

func TestVersitygwEnvMissing(t *testing.T) {
	t.Setenv(versitygwEnv, filepath.Join(t.TempDir(), "nothing"))
	if _, err := versitygwBinary(t); err == nil || !strings.Contains(err.Error(), versitygwEnv) {
		t.Fatalf("versitygwBinary with a missing %s = %v", versitygwEnv, err)
	}
}

func TestRedisBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(redisEnv, "")
	_, err := findRedis(nil)
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y redis-server") {
		t.Fatalf("findRedis without redis-server = %v, want a message naming apt-get", err)
	}
}
