package redis

import (
	"fmt"
	"net/url"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bucketmail/bucketmail/internal/store"
)

// defaultPoolSize is the connection pool of a client whose URL sets no
// pool_size. Every idle worker loop (--worker-concurrency of them per
// queue, inbound and outbound) holds a connection in a blocking read, and
// go-redis's default of 10 per CPU would leave the other callers of a
// 2-CPU process (the edge, the gateway, the reconciler) waiting for one.
const defaultPoolSize = 128

// ParseURL turns a store URL into client options:
//
//	redis://[user:pass@]host:port[/db]      one server
//	rediss://...                            the same over TLS
//	redis://host1:port?addr=host2:port&addr=host3:port
//	                                        a Cluster, seeded with every addr
//	redis://host:port?cluster=true          a Cluster seeded with one node
//	redis://[user:pass@]s1:26379?addr=s2:26379&sentinel_master=NAME
//	                                        Sentinel: hosts are sentinels,
//	                                        user:pass are the master's;
//	                                        sentinel_password=... if needed
//
// Every other query parameter is one of go-redis's own (see
// goredis.ParseURL: dial_timeout, read_timeout, pool_size, max_retries,
// skip_verify, ...). A Cluster has only database 0. pool_size defaults to
// defaultPoolSize, not go-redis's 10 per CPU.
func ParseURL(rawURL string) (*goredis.UniversalOptions, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("redis: url: %s: %w", fmt.Sprintf(format, args...), store.ErrInvalid)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, bad("%v", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, bad("scheme %q, want redis or rediss", u.Scheme)
	}
	q := u.Query()
	extra := q["addr"]
	master := q.Get("sentinel_master")
	sentinelPassword := q.Get("sentinel_password")
	cluster := false
	if v := q.Get("cluster"); v != "" {
		if cluster, err = strconv.ParseBool(v); err != nil {
			return nil, bad("cluster=%q", v)
		}
	}
	for _, k := range []string{"addr", "sentinel_master", "sentinel_password", "cluster"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, bad("%v", err)
	}
	opts := &goredis.UniversalOptions{
		Addrs:            append([]string{o.Addr}, extra...),
		DB:               o.DB,
		Username:         o.Username,
		Password:         o.Password,
		SentinelPassword: sentinelPassword,
		MasterName:       master,
		IsClusterMode:    cluster,
		TLSConfig:        o.TLSConfig,
		ClientName:       o.ClientName,
		Protocol:         o.Protocol,
		MaxRetries:       o.MaxRetries,
		MinRetryBackoff:  o.MinRetryBackoff,
		MaxRetryBackoff:  o.MaxRetryBackoff,
		DialTimeout:      o.DialTimeout,
		ReadTimeout:      o.ReadTimeout,
		WriteTimeout:     o.WriteTimeout,
		PoolFIFO:         o.PoolFIFO,
		PoolSize:         o.PoolSize,
		PoolTimeout:      o.PoolTimeout,
		MinIdleConns:     o.MinIdleConns,
		MaxIdleConns:     o.MaxIdleConns,
		MaxActiveConns:   o.MaxActiveConns,
		ConnMaxIdleTime:  o.ConnMaxIdleTime,
		ConnMaxLifetime:  o.ConnMaxLifetime,
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = defaultPoolSize
	}
	if o.DB != 0 && master == "" && (cluster || len(opts.Addrs) > 1) {
		return nil, bad("a Cluster has only database 0, not %d", o.DB)
	}
	return opts, nil
}
