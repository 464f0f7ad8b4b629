package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/domainkeys"
	"github.com/bucketmail/bucketmail/internal/resolver"
	"github.com/bucketmail/bucketmail/outbound"
)

// outboundConfig configures delivery to remote domains (the worker role).
type outboundConfig struct {
	RelayHost     string // HOST:PORT of a smarthost; "" means direct delivery
	RelayUser     string
	RelayPassword string // better set through BUCKETMAIL_RELAY_PASSWORD: flags show in ps
	SESRegion     string // send through Amazon SES v2 in this region
	Routes        routeFlag
	QueueLifetime time.Duration
}

func (o *outboundConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&o.RelayHost, "relay-host", "", "send all remote mail through this smarthost `HOST:PORT` (port 465: implicit TLS), e.g. when port 25 is blocked, as on new Linode accounts (default: direct delivery to the recipients' MX hosts on port 25)")
	fs.StringVar(&o.RelayUser, "relay-user", "", "user name for AUTH PLAIN at --relay-host (then STARTTLS is required)")
	fs.StringVar(&o.RelayPassword, "relay-password", "", "password for --relay-user (prefer the environment variable BUCKETMAIL_RELAY_PASSWORD)")
	fs.StringVar(&o.SESRegion, "relay-ses-region", "", "send all remote mail through Amazon SES v2 (raw message) in this `region` (credentials from the AWS environment, shared files or IAM role)")
	fs.Var(&o.Routes, "transport", "static route `DOMAIN=HOST:PORT` (host may be [bracketed]) for the mail of one domain, like a Postfix transport map; wins over the relay; repeatable, or comma-separated")
	fs.DurationVar(&o.QueueLifetime, "queue-lifetime", outbound.DefaultLifetime, "how long remote delivery is retried (120h: 5 days) before the sender gets a failure notice; a delay notice comes after 4h")
}

func (o *outboundConfig) check() error {
	switch {
	case o.RelayHost != "" && o.SESRegion != "":
		return usagef("--relay-host and --relay-ses-region exclude each other")
	case o.RelayUser != "" && o.RelayHost == "":
		return usagef("--relay-user needs --relay-host")
	case o.RelayPassword != "" && o.RelayUser == "":
		return usagef("--relay-password needs --relay-user")
	case o.QueueLifetime < 0:
		return usagef("negative limits are not allowed")
	}
	if o.RelayHost != "" {
		if _, _, err := outbound.SplitHostPort(o.RelayHost); err != nil {
			return usagef("--relay-host %v", err)
		}
	}
	return nil
}

// routeFlag is the repeatable --transport DOMAIN=HOST:PORT.
type routeFlag map[string]string

func (r *routeFlag) String() string {
	var s []string
	for d, hp := range *r {
		s = append(s, d+"="+hp)
	}
	return strings.Join(s, ",")
}

func (r *routeFlag) Set(v string) error {
	if *r == nil {
		*r = routeFlag{}
	}
	for _, item := range strings.Split(v, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		d, hp, err := outbound.ParseRoute(strings.TrimSpace(item))
		if err != nil {
			return err
		}
		(*r)[d] = hp
	}
	return nil
}

// outboundSender wires the outbound queue's sender.
func (d *deps) outboundSender(consumer string) (*outbound.Sender, error) {
	o := d.cfg.Outbound
	cfg := outbound.Config{
		Store:         d.store,
		Blobs:         d.blobs,
		Hostname:      d.cfg.Hostname,
		Resolver:      resolver.New(d.cfg.DNSResolver),
		Routes:        o.Routes,
		Relay:         o.RelayHost,
		RelayUser:     o.RelayUser,
		RelayPassword: o.RelayPassword,
		Signer: outbound.SignerFunc(func(ctx context.Context, domain string, w io.Writer, r io.Reader) error {
			return domainkeys.Sign(ctx, d.blobs, domain, w, r)
		}),
		Lifetime:       o.QueueLifetime,
		Concurrency:    d.cfg.WorkerConcurrency,
		Consumer:       consumer,
		Lease:          d.cfg.WorkerLease,
		AttemptTimeout: d.cfg.JobTimeout,
		Log:            d.log,
		Metrics:        d.metrics,
	}
	if o.SESRegion != "" {
		ses, err := outbound.NewSES(context.Background(), o.SESRegion)
		if err != nil {
			return nil, fmt.Errorf("--relay-ses-region: %w", err)
		}
		cfg.Transport = ses
	}
	return outbound.New(cfg), nil
}
