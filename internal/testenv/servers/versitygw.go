package servers

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// versitygwEnv names an explicit versitygw binary.
	versitygwEnv = "BUCKETMAIL_VERSITYGW"
	// versitygwPkg is built from tools/go.mod, which pins its version.
	versitygwPkg = "github.com/versity/versitygw/cmd/versitygw"
	rootModule   = "github.com/bucketmail/bucketmail"
)

// versitygwBinary returns the versitygw to run: $BUCKETMAIL_VERSITYGW, or
// <repo>/.testbin/versitygw, (re)built when missing or older than
// tools/go.mod. `make test` builds it beforehand; building here takes a few
// minutes on a cold cache.
func versitygwBinary(t testing.TB) (string, error) {
	if bin := os.Getenv(versitygwEnv); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s: %w", versitygwEnv, err)
		}
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".testbin", "versitygw")
	modfile := filepath.Join(root, "tools", "go.mod")
	if fresh(bin, modfile) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	// Test binaries of several packages may get here at once: build once.
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if fresh(bin, modfile) {
		return bin, nil
	}
	t.Logf("servers: building %s into %s (from tools/go.mod; minutes the first time)", versitygwPkg, bin)
	start := time.Now()
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-o", tmp, versitygwPkg)
	cmd.Dir = filepath.Join(root, "tools")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building versitygw (cd tools && go build -o %s %s): %v\n%s", bin, versitygwPkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	t.Logf("servers: built versitygw in %v", time.Since(start).Round(time.Second))
	return bin, nil
}

// fresh reports whether bin exists and is newer than modfile.
func fresh(bin, modfile string) bool {
	b, err := os.Stat(bin)
	if err != nil {
		return false
	}
	m, err := os.Stat(modfile)
	return err != nil || !b.ModTime().Before(m.ModTime())
}

// repoRoot finds the directory of our go.mod from the working directory,
// which go test sets to the package's.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isRootModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of " + rootModule + "); set " + versitygwEnv)
		}
		dir = parent
	}
}

// isRootModule reports whether the go.mod at path declares rootModule.
func isRootModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`) == rootModule
		}
	}
	return false
}
