package imapgw

import (
	"testing"
)

func TestDbgLimit(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AppendLimit = 100 })
	c := env.dial(t, "alice@example.org", nil)
	cmd := c.Append("INBOX", int64(len(plainMsg)), nil)
	cmd.Write([]byte(plainMsg))
	cmd.Close()
	_, err := cmd.Wait()
	t.Logf("append: %v", err)
	t.Logf("noop: %v", c.Noop().Wait())
	st, err := c.Status("INBOX", nil).Wait()
	t.Logf("status: %v %v", st, err)
}
