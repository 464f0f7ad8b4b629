package main

import (
	"flag"
	"io"
	"testing"
	"time"
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

func TestConnFlags(t *testing.T) {
	parse := func(args ...string) (config, error) {
		var c config
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.register(fs, roles{edge: true, gateway: true})
		if err := fs.Parse(append(args, "--hostname", "h")); err != nil {
			return c, err
		}
		return c, c.check()
	}
	c, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	want := connConfig{MaxConnections: 10000, MaxConnectionsPerIP: 50,
		TLSHandshakeTimeout: 10 * time.Second, LineTimeout: 30 * time.Second, MinLineRate: 1024}
	if c.Abuse.Conns != want || c.Abuse.ConnPerIPMinute != 600 {
		t.Errorf("defaults %+v, %d per minute", c.Abuse.Conns, c.Abuse.ConnPerIPMinute)
	}
	c, err = parse("--max-connections", "5", "--max-connections-per-ip", "0", "--tls-handshake-timeout", "3s",
		"--line-timeout", "0", "--min-line-rate", "10")
	if err != nil {
		t.Fatal(err)
	}
	want = connConfig{MaxConnections: 5, TLSHandshakeTimeout: 3 * time.Second, MinLineRate: 10}
	if c.Abuse.Conns != want {
		t.Errorf("parsed %+v, want %+v", c.Abuse.Conns, want)
	}
	for _, bad := range []string{"--max-connections=-1", "--line-timeout=-1s", "--min-line-rate=-5"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
