package imapgw

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	script "github.com/bucketmail/bucketmail/internal/transcript"
)

// TestTranscripts plays every transcript of testdata/transcripts (the
// format is described in internal/transcript) against a gateway of each
// deployment.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			eachDeployment(t, func(t *testing.T, env *testEnv) {
				r := &script.Runner{Env: &transcriptEnv{t: t, env: env}, Messages: "testdata/transcripts/messages"}
				if err := r.RunFile(file); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestTranscriptMismatch: a transcript the server does not follow fails,
// naming its line.
func TestTranscriptMismatch(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct {
		src, want string
		timeout   time.Duration // 0: the runner's default
	}{
		{"S: * OK $*\nC: a1 NOOP\nS: a1 NO $*\n", "3: server sent", 0},
		{"S: * OK $*\nC: a1 LOGIN alice@example.org \"correct horse battery\"\nS: a1 OK $*\nC: a2 SELECT INBOX\nS: * 1 EXISTS\n", "5: server sent", 0},
		{"S: * OK [CAPABILITY $FIRST $*] $*\nC: a1 CAPABILITY\nS: * CAPABILITY $FIRST $FIRST $*\n", "3: server sent", 0},
		// Nothing more comes: the read times out (long enough for the
		// greeting on a loaded machine, short for the test).
		{"S: * OK $*\nS: * OK $*\n", "2: want", 3 * time.Second},
	} {
		steps, err := script.Parse([]byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		r := &script.Runner{Env: &transcriptEnv{t: t, env: env}, Timeout: tc.timeout}
		if err := r.Run(steps); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("transcript\n%s\nran with %v, want an error with %q", tc.src, err, tc.want)
		}
	}
}

// transcriptEnv is a gateway for script.Runner: connection 1 goes to it,
// connection 2 to a second gateway on the same store.
type transcriptEnv struct {
	t      *testing.T
	env    *testEnv
	second string
}

func (e *transcriptEnv) Dial(n int) (net.Conn, error) {
	addr := e.env.tlsAddr
	switch n {
	case 1:
	case 2:
		if e.second == "" {
			e.second = e.env.secondGateway(e.t)
		}
		addr = e.second
	default:
		return nil, fmt.Errorf("no gateway %d", n)
	}
	return tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
}

func (e *transcriptEnv) Deliver(user, mailbox string, raw []byte, flags []string) error {
	_, err := e.env.tryDeliver(user, mailbox, "", string(raw), time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), flags...)
	return err
}

func (e *transcriptEnv) SetQuota(user string, bytes int64) error {
	return e.env.store.SetQuota(e.t.Context(), user, bytes)
}
