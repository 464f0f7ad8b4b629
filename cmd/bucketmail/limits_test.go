package main

import (
	"flag"
	"io"
	"testing"
)

func TestAbuseFlags(t *testing.T) {
	var c config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs, roles{edge: true, gateway: true})
	env := map[string]string{"BUCKETMAIL_PROXY_PROTOCOL_FROM": "192.168.255.0/24, 10.0.0.1"}
	if err := applyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--limit-auth-failures", "5", "--hostname", "h"}); err != nil {
		t.Fatal(err)
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	a := c.Abuse
	if a.AuthFailures != 5 || a.ConnPerIPMinute != defaultConnPerIPMinute ||
		a.MessagesPerHour != defaultMessagesPerHour || a.RecipientsPerHour != defaultRecipientsPerHour {
		t.Errorf("limits = %+v", a)
	}
	if len(a.proxyFrom) != 2 || a.proxyFrom[0].String() != "192.168.255.0/24" || a.proxyFrom[1].String() != "10.0.0.1/32" {
		t.Errorf("proxy sources = %v", a.proxyFrom)
	}
	for _, bad := range []abuseConfig{{ProxyProtocolFrom: "10.0.0.0/40"}, {AuthFailures: -1}} {
		if err := bad.check(); err == nil {
			t.Errorf("check accepted %+v", bad)
		}
	}
}
