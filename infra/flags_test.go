package infra_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// envOnly are BUCKETMAIL_* settings that are deliberately not flags (the
// S3 credentials: flags would show in ps).
var envOnly = map[string]bool{
	"BUCKETMAIL_S3_ACCESS_KEY": true,
	"BUCKETMAIL_S3_SECRET_KEY": true,
}

// serverCommands are the commands whose flags deployment files set.
var serverCommands = []string{"run", "edge", "worker", "gateway"}

// binary is cmd/bucketmail built once for the tests that run it.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// buildBinary builds cmd/bucketmail (once) and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if binary.dir, binary.err = os.MkdirTemp("", "bucketmail-infra-test"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "bucketmail")
		cmd := exec.Command(goBin, "build", "-o", binary.path, "./cmd/bucketmail")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build ./cmd/bucketmail: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

var flagLine = regexp.MustCompile(`^\s+-([a-z0-9][a-z0-9-]*)`)

// binaryEnvNames returns the environment name of every flag of the server
// commands, read from their -h output.
func binaryEnvNames(t *testing.T, bin string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, c := range serverCommands {
		out, err := exec.Command(bin, c, "-h").Output()
		if err != nil {
			t.Fatalf("bucketmail %s -h: %v", c, err)
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
				names["BUCKETMAIL_"+strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))] = true
				n++
			}
		}
		if n < 5 {
			t.Fatalf("bucketmail %s -h lists %d flags; the help format changed?\n%s", c, n, out)
		}
	}
	return names
}

var envName = regexp.MustCompile(`BUCKETMAIL_[A-Z0-9_]*[A-Z0-9]`)

// TestEnvNamesAreFlags checks every BUCKETMAIL_* name in infra/ and the
// Dockerfile against the flags of the built binary, so a renamed flag
// cannot leave a deployment setting something nobody reads.
func TestEnvNamesAreFlags(t *testing.T) {
	known := binaryEnvNames(t, buildBinary(t))
	if !known["BUCKETMAIL_DRAIN"] || !known["BUCKETMAIL_STORE"] {
		t.Fatalf("flag list looks wrong: %v", known)
	}
	files := []string{"../Dockerfile"}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envName.FindAllString(string(data), -1) {
			seen++
			if !known[name] && !envOnly[name] {
				t.Errorf("%s: %s is not a flag of bucketmail %s", f, name, strings.Join(serverCommands, "/"))
			}
		}
	}
	if seen < 20 {
		t.Errorf("only %d BUCKETMAIL_* names found in infra/: is the walk broken?", seen)
	}
	var list []string
	for n := range known {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("%d flags known: %s", len(list), strings.Join(list, " "))
}
