package main

import (
	"flag"
	"testing"
	"time"
)

func TestEnvOverlayCommandLineWins(t *testing.T) {
	env := map[string]string{
		"BUCKETMAIL_DATA_DIR":         "/from/env",
		"BUCKETMAIL_SMTP_ADDR":        "127.0.0.1:2525",
		"BUCKETMAIL_MAX_MESSAGE_SIZE": "1MiB",
		"BUCKETMAIL_WORKER_LEASE":     "5s",
		"BUCKETMAIL_IMAP_ADDR":        "", // empty disables the listener
	}
	a := &app{lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	var cfg config
	fs := newFlagSet("run")
	cfg.register(fs, roles{edge: true, worker: true, gateway: true})
	if _, err := a.parse(fs, "", []string{"--smtp-addr", ":2526"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/env" {
		t.Errorf("DataDir = %q, want the env value", cfg.DataDir)
	}
	if cfg.SMTPAddr != ":2526" {
		t.Errorf("SMTPAddr = %q, want the command line value", cfg.SMTPAddr)
	}
	if cfg.IMAPAddr != "" {
		t.Errorf("IMAPAddr = %q, want empty from env", cfg.IMAPAddr)
	}
	if cfg.MaxMessageSize != 1<<20 || cfg.WorkerLease != 5*time.Second {
		t.Errorf("MaxMessageSize = %d, WorkerLease = %s", cfg.MaxMessageSize, cfg.WorkerLease)
	}
	if cfg.Store != "sqlite:///from/env/bucketmail.db" || cfg.Blobs != "file:///from/env/blobs" {
		t.Errorf("Store = %q, Blobs = %q: want derived from the data dir", cfg.Store, cfg.Blobs)
	}
	if cfg.POP3Addr != ":110" || cfg.HTTPAddr != ":8080" {
		t.Errorf("defaults changed: pop3 %q http %q", cfg.POP3Addr, cfg.HTTPAddr)
	}
}

func TestEnvBadValueIsUsageError(t *testing.T) {
	a := &app{lookupEnv: func(k string) (string, bool) {
		return "lots", k == "BUCKETMAIL_MAX_MESSAGE_SIZE"
	}}
	var cfg config
	fs := newFlagSet("edge")
	cfg.register(fs, roles{edge: true})
	_, err := a.parse(fs, "", nil)
	if _, ok := err.(usageError); !ok {
		t.Fatalf("err = %v (%T), want a usageError", err, err)
	}
}

func TestEveryFlagHasAnEnvName(t *testing.T) {
	var cfg config
	fs := newFlagSet("run")
	cfg.register(fs, roles{edge: true, worker: true, gateway: true})
	want := map[string]string{
		"data-dir":            "BUCKETMAIL_DATA_DIR",
		"allow-insecure-auth": "BUCKETMAIL_ALLOW_INSECURE_AUTH",
		"pop3s-addr":          "BUCKETMAIL_POP3S_ADDR",
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if w, ok := want[f.Name]; ok && envName(f.Name) != w {
			t.Errorf("envName(%q) = %q, want %q", f.Name, envName(f.Name), w)
		}
	})
	if n < 20 {
		t.Errorf("only %d flags registered", n)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1234": 1234, "64KiB": 64 << 10, "64k": 64 << 10, "50MiB": 50 << 20,
		"2M": 2 << 20, "1GiB": 1 << 30, "10MB": 10_000_000, "7B": 7,
	} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1.5M", "99999999999999G"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, b)
		}
	}
}

func TestParseRoles(t *testing.T) {
	r, err := parseRoles("edge, gateway")
	if err != nil || r != (roles{edge: true, gateway: true}) {
		t.Errorf("parseRoles = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "edge,mta", ","} {
		if _, err := parseRoles(bad); err == nil {
			t.Errorf("parseRoles(%q) succeeded", bad)
		}
	}
}

func TestCheckRejectsHalfTLS(t *testing.T) {
	cfg := config{TLSCert: "cert.pem", Hostname: "h", LogLevel: "info"}
	if err := cfg.check(); err == nil {
		t.Error("check accepted --tls-cert without --tls-key")
	}
}

// TestAuthCacheTTLFlag: the roles that authenticate have --auth-cache-ttl,
// 5m by default, 0 (off) from the environment, never negative.
func TestAuthCacheTTLFlag(t *testing.T) {
	for _, r := range []roles{{edge: true}, {gateway: true}} {
		var cfg config
		fs := newFlagSet(r.String())
		cfg.register(fs, r)
		if cfg.AuthCacheTTL != 5*time.Minute {
			t.Errorf("%s: default --auth-cache-ttl = %s, want 5m", r, cfg.AuthCacheTTL)
		}
		a := &app{lookupEnv: func(k string) (string, bool) { return "0", k == "BUCKETMAIL_AUTH_CACHE_TTL" }}
		if _, err := a.parse(fs, "", nil); err != nil || cfg.AuthCacheTTL != 0 {
			t.Errorf("%s: BUCKETMAIL_AUTH_CACHE_TTL=0 gave %s, %v", r, cfg.AuthCacheTTL, err)
		}
	}
	fs := newFlagSet("worker")
	new(config).register(fs, roles{worker: true})
	if fs.Lookup("auth-cache-ttl") != nil {
		t.Error("the worker, which authenticates no one, has --auth-cache-ttl")
	}
	cfg := config{Hostname: "h", LogLevel: "info", AuthCacheTTL: -time.Second}
	if err := cfg.check(); err == nil {
		t.Error("check accepted a negative --auth-cache-ttl")
	}
}

// TestIMAPTimeoutFlags: the gateway's IMAP timeouts default to the
// engine's, are settable from the environment, and the two of an
// authenticated session are never below RFC 9051's 30 minutes.
func TestIMAPTimeoutFlags(t *testing.T) {
	var cfg config
	fs := newFlagSet("gateway")
	cfg.register(fs, roles{gateway: true})
	if cfg.IMAPPreLoginTimeout != time.Minute || cfg.IMAPIdleTimeout != 30*time.Minute || cfg.IMAPIdleCommandTimeout != 30*time.Minute {
		t.Errorf("defaults %s %s %s, want 1m 30m 30m", cfg.IMAPPreLoginTimeout, cfg.IMAPIdleTimeout, cfg.IMAPIdleCommandTimeout)
	}
	a := &app{lookupEnv: func(k string) (string, bool) { return "2h", k == "BUCKETMAIL_IMAP_IDLE_TIMEOUT" }}
	if _, err := a.parse(fs, "", nil); err != nil || cfg.IMAPIdleTimeout != 2*time.Hour {
		t.Errorf("BUCKETMAIL_IMAP_IDLE_TIMEOUT=2h gave %s, %v", cfg.IMAPIdleTimeout, err)
	}
	for _, bad := range []config{
		{IMAPIdleTimeout: 29 * time.Minute},
		{IMAPIdleCommandTimeout: time.Minute},
		{IMAPPreLoginTimeout: -time.Second},
	} {
		bad.Hostname, bad.LogLevel = "h", "info"
		if err := bad.check(); err == nil {
			t.Errorf("check accepted %s %s %s", bad.IMAPPreLoginTimeout, bad.IMAPIdleTimeout, bad.IMAPIdleCommandTimeout)
		}
	}
}

// TestIMAPCompressFlag: --imap-compress is on by default and can be
// turned off from the environment.
func TestIMAPCompressFlag(t *testing.T) {
	var cfg config
	fs := newFlagSet("gateway")
	cfg.register(fs, roles{gateway: true})
	if !cfg.IMAPCompress {
		t.Error("--imap-compress is off by default")
	}
	a := &app{lookupEnv: func(k string) (string, bool) { return "false", k == "BUCKETMAIL_IMAP_COMPRESS" }}
	if _, err := a.parse(fs, "", nil); err != nil || cfg.IMAPCompress {
		t.Errorf("BUCKETMAIL_IMAP_COMPRESS=false gave %v, %v", cfg.IMAPCompress, err)
	}
}
