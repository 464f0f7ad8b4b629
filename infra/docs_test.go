package infra_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellCommands returns the commands of the ```sh blocks of a Markdown
// file, in order, with continuation lines joined.
func shellCommands(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	in, cont := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && line == "```sh"
			continue
		case !in || line == "":
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cmds = append(cmds, cont+line)
		cont = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// loopbackCommand tells the bucketmail commands of the guide that need
// nothing but the binary and its data directory: no placeholder to fill
// in, no server to reach.
var loopbackCommand = regexp.MustCompile(`^bucketmail (domain|dkim|dns|user|alias|queue|version)\b[^<]*$`)

// TestLinodeGuideCommandsRunInOrder runs every admin command of
// docs/deploy-linode.md that can run on loopback, in the order of the
// guide, against the built binary with a fresh data directory (the
// embedded store stands for the deployment's Redis and bucket): a step
// that needs an earlier one (dkim keygen needs domain add) fails here when
// the guide has them the wrong way round.
func TestLinodeGuideCommandsRunInOrder(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	var ran []string
	for _, c := range shellCommands(t, "../docs/deploy-linode.md") {
		if !loopbackCommand.MatchString(c) {
			continue
		}
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + filepath.Dir(bin) + ":/usr/bin:/bin",
			"BUCKETMAIL_DATA_DIR=" + filepath.Join(dir, "data"),
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docs/deploy-linode.md, after %q:\n$ %s\n%v\n%s", ran, c, err, out)
		}
		ran = append(ran, c)
	}
	for _, want := range []string{"bucketmail domain add", "bucketmail dkim keygen", "bucketmail dkim list", "bucketmail dns", "bucketmail user add"} {
		found := false
		for _, c := range ran {
			found = found || strings.HasPrefix(c, want)
		}
		if !found {
			t.Errorf("no %q among the commands run: %q", want, ran)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "dns.json")); err != nil || fi.Size() == 0 {
		t.Errorf("the guide's dns command wrote no dns.json: %v", err)
	}
}
