package main

import (
	"flag"
	"time"

	"github.com/bucketmail/bucketmail/edge"
)

// defaultUnknownRcpts is the default of --limit-unknown-rcpts.
const defaultUnknownRcpts = 20

// harvestConfig is the edge's limit on unknown recipients, against address
// harvesting (edge.Config.UnknownRcpts).
type harvestConfig struct {
	UnknownRcpts     int
	UnknownRcptDelay time.Duration
}

func (h *harvestConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&h.UnknownRcpts, "limit-unknown-rcpts", defaultUnknownRcpts, "unknown local recipients (550 5.1.1) per SMTP session, and per client IP (authenticated: per user) in 15 minutes across sessions, counted in the store; from a quarter of it each further one is answered after a growing delay (unauthenticated clients only), over it the edge answers 421 4.7.0 and closes the connection, and MAIL of a later session gets the same; known recipients are never slowed; see docs/security.md (0: no limit)")
	fs.DurationVar(&h.UnknownRcptDelay, "unknown-rcpt-delay", edge.DefaultUnknownRcptDelay, "delay step of --limit-unknown-rcpts: the n-th unknown recipient past the free quarter waits n times this, at most 8s")
}

func (h *harvestConfig) check() error {
	if h.UnknownRcpts < 0 || h.UnknownRcptDelay < 0 {
		return usagef("negative limits are not allowed")
	}
	return nil
}
