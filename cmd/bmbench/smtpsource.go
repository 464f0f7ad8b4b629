package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// smtpSourceScenario is the scenario name of the accept runs driven by
// Postfix's own load generator, smtp-source(1), beside bmbench's.
const smtpSourceScenario = "smtp-accept-smtp-source"

// smtpSourceAccept measures the accept rate as smtpAccept does, at the same
// session counts and message size, but with smtp-source sending: the same
// figures from a generator neither target wrote. smtp-source keeps each
// session's connection for the next message (-d; without it, it connects
// once per message), sends every message to one recipient (sink01) and
// reports nothing per message, so the rows are the rate over the whole run
// and the end-to-end rate (accepted, delivered and visible over IMAP).
func smtpSourceAccept(ctx context.Context, cfg *config, cnt *counter, res *results) error {
	bin, err := exec.LookPath(cfg.smtpSource)
	if err != nil {
		slog.Warn("smtp-source not found: its accept runs are skipped", "path", cfg.smtpSource, "err", err)
		return nil
	}
	const user = "sink01"
	want := map[string]int{}
	n, err := cnt.count(user)
	if err != nil {
		return err
	}
	want[user] = n
	dir, err := os.MkdirTemp("", "bmbench-smtp-source-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "message")
	rng := rand.New(rand.NewPCG(1, 2))
	msg := messageText(loadSender, cfg.addr(user), "accept smtp-source", cfg.size, false, rng)
	// smtp-source appends CRLF to each line of the file itself.
	if err := os.WriteFile(file, bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), 0o600); err != nil {
		return err
	}
	for _, s := range cfg.sessions {
		param := strconv.Itoa(s) + " sessions"
		for run := range cfg.runs {
			elapsed, err := runSMTPSource(ctx, bin, cfg, s, file, cfg.addr(user))
			if err != nil {
				return fmt.Errorf("smtp-source %s: %w", param, err)
			}
			want[user] += cfg.smtpMessages
			rate := float64(cfg.smtpMessages) / elapsed.Seconds()
			res.add(smtpSourceScenario, param, "accept rate", "msg/s", "higher", rate)
			dstart := time.Now()
			if err := cnt.waitFor(want, 15*time.Minute); err != nil {
				return fmt.Errorf("smtp-source %s: %w", param, err)
			}
			drain := time.Since(dstart)
			res.add(smtpSourceScenario, param, "accepted to delivered, all", "msg/s", "higher",
				float64(cfg.smtpMessages)/(elapsed+drain).Seconds())
			slog.Info("smtp accept, smtp-source", "target", cfg.target, "sessions", s, "run", run+1,
				"rate", fmt.Sprintf("%.0f/s", rate), "drain", drain.Round(time.Millisecond))
		}
	}
	return nil
}

// runSMTPSource sends cfg.smtpMessages copies of file to rcpt over sessions
// connections and returns how long smtp-source took. smtp-source ends with
// a non-zero status at the first reply it did not expect.
func runSMTPSource(ctx context.Context, bin string, cfg *config, sessions int, file, rcpt string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, "-d",
		"-s", strconv.Itoa(sessions), "-m", strconv.Itoa(cfg.smtpMessages),
		"-M", "load.bench.example.net", "-f", loadSender, "-t", rcpt, "-F", file, cfg.smtp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return 0, fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
		return 0, err
	}
	return elapsed, nil
}
