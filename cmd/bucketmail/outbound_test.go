package main

import (
	"maps"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/outbound"
)

// TestOutboundFlags: --transport repeats and takes a comma-separated
// environment value; relay flags are checked.
func TestOutboundFlags(t *testing.T) {
	parse := func(env map[string]string, args ...string) (config, error) {
		a := &app{lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		var cfg config
		fs := newFlagSet("worker")
		cfg.register(fs, roles{worker: true})
		if _, err := a.parse(fs, "", args); err != nil {
			return cfg, err
		}
		return cfg, cfg.check()
	}
	cfg, err := parse(map[string]string{"BUCKETMAIL_RELAY_PASSWORD": "pw"},
		"--transport", "a.test=[mx.a.test]:25", "--transport", "B.test=10.0.0.1:2525",
		"--relay-host", "smtp.example.net:587", "--relay-user", "u")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.test": "[mx.a.test]:25", "b.test": "10.0.0.1:2525"}
	o := cfg.Outbound
	if !maps.Equal(o.Routes, want) || o.RelayHost != "smtp.example.net:587" || o.RelayPassword != "pw" ||
		o.QueueLifetime != outbound.DefaultLifetime {
		t.Errorf("outbound config = %+v", o)
	}
	cfg, err = parse(map[string]string{"BUCKETMAIL_TRANSPORT": "a.test=h:25,c.test=h:26", "BUCKETMAIL_QUEUE_LIFETIME": "1h"})
	if err != nil || len(cfg.Outbound.Routes) != 2 || cfg.Outbound.QueueLifetime != time.Hour {
		t.Errorf("from env: %+v, %v", cfg.Outbound, err)
	}
	for _, bad := range [][]string{
		{"--transport", "a.test"},
		{"--relay-host", "nohost"},
		{"--relay-user", "u"},
		{"--relay-host", "h:25", "--relay-ses-region", "eu-west-1"},
	} {
		if _, err := parse(nil, bad...); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
