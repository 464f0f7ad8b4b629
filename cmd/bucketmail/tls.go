package main

import (
	"strings"

	"github.com/bucketmail/bucketmail/internal/tlsconf"
)

// tlsOptions are the certificate settings of the flags: files or a
// self-signed pair, and ACME for --acme-domains with its cache in the blob
// store (shared by every node).
func (d *deps) tlsOptions() tlsconf.Options {
	o := tlsconf.Options{
		CertFile: d.cfg.TLSCert,
		KeyFile:  d.cfg.TLSKey,
		DataDir:  d.cfg.DataDir,
		Hostname: d.cfg.Hostname,
		Log:      d.log,
	}
	var domains []string
	for _, name := range strings.Split(d.cfg.ACMEDomains, ",") {
		if name = strings.TrimSpace(name); name != "" {
			domains = append(domains, name)
		}
	}
	if len(domains) > 0 {
		o.ACME = &tlsconf.ACMEOptions{
			Domains:      domains,
			Email:        d.cfg.ACMEEmail,
			DirectoryURL: d.cfg.ACMEDirectoryURL,
			Blobs:        d.blobs,
			Hostname:     d.cfg.Hostname,
		}
	}
	return o
}
