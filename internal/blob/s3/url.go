package s3

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// defaultRegion is used when the URL names none: AWS's original region,
// which S3-compatible servers that ignore regions also accept.
const defaultRegion = "us-east-1"

// config is what an s3:// URL says.
type config struct {
	Bucket    string
	Prefix    string // "" or ending in "/"
	Endpoint  string // host[:port]
	Region    string
	Secure    bool
	PathStyle bool
}

var errURL = errors.New("blob/s3: invalid URL")

// parseURL reads s3://BUCKET[/PREFIX]?endpoint=HOST[:PORT]&region=R&secure=
// true|false&path_style=true|false. Defaults: AWS's endpoint for the region,
// secure, region us-east-1, virtual-host style unless path_style=true or the
// endpoint is an IP address or localhost (which cannot carry a bucket
// subdomain).
func parseURL(raw string) (config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return config{}, fmt.Errorf("%w: %v", errURL, err)
	}
	if u.Scheme != "s3" {
		return config{}, fmt.Errorf("%w %q: scheme must be s3", errURL, raw)
	}
	if u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return config{}, fmt.Errorf("%w %q: no user info or fragment allowed (credentials come from the environment)", errURL, raw)
	}
	c := config{Bucket: u.Host, Region: defaultRegion, Secure: true}
	if c.Bucket == "" {
		return config{}, fmt.Errorf("%w %q: no bucket", errURL, raw)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if err := blob.ValidKey(p); err != nil {
			return config{}, fmt.Errorf("%w %q: prefix: %v", errURL, raw, err)
		}
		c.Prefix = p + "/"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "secure", "path_style":
		default:
			return config{}, fmt.Errorf("%w %q: unknown parameter %q", errURL, raw, k)
		}
	}
	if r := q.Get("region"); r != "" {
		c.Region = r
	}
	if c.Secure, err = boolParam(q, "secure", true); err != nil {
		return config{}, fmt.Errorf("%w %q: %v", errURL, raw, err)
	}
	if c.Endpoint = q.Get("endpoint"); c.Endpoint == "" {
		c.Endpoint = "s3." + c.Region + ".amazonaws.com"
	}
	if strings.Contains(c.Endpoint, "/") {
		return config{}, fmt.Errorf("%w %q: endpoint is HOST[:PORT], without scheme or path", errURL, raw)
	}
	pathStyle, err := boolParam(q, "path_style", false)
	if err != nil {
		return config{}, fmt.Errorf("%w %q: %v", errURL, raw, err)
	}
	c.PathStyle = pathStyle || !q.Has("path_style") && hostNeedsPathStyle(c.Endpoint)
	return c, nil
}

// boolParam reads an optional boolean query parameter.
func boolParam(q url.Values, name string, def bool) (bool, error) {
	if !q.Has(name) {
		return def, nil
	}
	b, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", name, q.Get(name))
	}
	return b, nil
}

// hostNeedsPathStyle reports whether endpoint is an IP address or localhost,
// where BUCKET.HOST cannot resolve.
func hostNeedsPathStyle(endpoint string) bool {
	host := endpoint
	if h, _, err := net.SplitHostPort(endpoint); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
}
