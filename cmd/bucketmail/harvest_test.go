package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/edge"
)

func TestEdgeSecurityFlags(t *testing.T) {
	parse := func(args ...string) (config, error) {
		var c config
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.register(fs, roles{edge: true})
		if err := fs.Parse(append(args, "--hostname", "h")); err != nil {
			return c, err
		}
		return c, c.check()
	}
	c, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if c.Harvest.UnknownRcpts != defaultUnknownRcpts || c.Harvest.UnknownRcptDelay != edge.DefaultUnknownRcptDelay || c.LocalSpoof != localSpoofReject {
		t.Errorf("defaults: %+v, local-spoof %q", c.Harvest, c.LocalSpoof)
	}
	c, err = parse("--limit-unknown-rcpts", "0", "--unknown-rcpt-delay", "10ms", "--local-spoof", "junk")
	if err != nil || c.Harvest.UnknownRcpts != 0 || c.Harvest.UnknownRcptDelay != 10*time.Millisecond || c.LocalSpoof != localSpoofJunk {
		t.Errorf("set: %+v, local-spoof %q, %v", c.Harvest, c.LocalSpoof, err)
	}
	for _, bad := range [][]string{{"--limit-unknown-rcpts", "-1"}, {"--unknown-rcpt-delay", "-1s"}, {"--local-spoof", "quarantine"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v (%T), want a usageError", bad, err, err)
		}
	}
}
