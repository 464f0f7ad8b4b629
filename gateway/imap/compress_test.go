package imapgw

import (
	"bufio"
	"testing"
)

func withCompress() envOption { return func(c *Config) { c.Compress = true } }

// TestCompressAdvertised checks that Config.Compress (--imap-compress)
// offers COMPRESS=DEFLATE (RFC 4978) after login and that the command
// runs; without it neither.
func TestCompressAdvertised(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		c := env.dial(t, "alice@example.org", nil)
		if !c.Caps().Has("COMPRESS=DEFLATE") {
			t.Fatalf("COMPRESS=DEFLATE not advertised after login: %v", c.Caps())
		}
		conn, err := tlsDial(env.tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		rawExchange(t, conn, r, "z1", `LOGIN alice@example.org "`+testPassword+`"`)
		rawExchange(t, conn, r, "z2", "COMPRESS DEFLATE")
	}, withCompress())
	t.Run("off", func(t *testing.T) {
		env := newEnv(t)
		if c := env.dial(t, "alice@example.org", nil); c.Caps().Has("COMPRESS=DEFLATE") {
			t.Fatalf("COMPRESS=DEFLATE advertised with Compress off: %v", c.Caps())
		}
	})
}
