package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/bucketmail/bucketmail/internal/autoconfig"
	"github.com/bucketmail/bucketmail/internal/domainkeys"
)

// dnsEnv makes a data dir with the domain example.test and two DKIM keys.
func dnsEnv(t *testing.T) (map[string]string, []domainkeys.Key) {
	t.Helper()
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	if code, _, errOut := runCmd(t, "", env, "domain", "add", "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	var sc storageConfig
	sc.DataDir = env["BUCKETMAIL_DATA_DIR"]
	st, bl, err := openStorage(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []domainkeys.Key
	for sel, alg := range map[string]string{"bm202611r": domainkeys.RSA2048, "bm202611e": domainkeys.Ed25519} {
		k, err := domainkeys.Generate(context.Background(), bl, "example.test", sel, alg)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return env, keys
}

func TestDNSZone(t *testing.T) {
	env, keys := dnsEnv(t)
	env["BUCKETMAIL_IMAP_ADDR"] = "" // IMAP with STARTTLS is off
	code, out, errOut := runCmd(t, "", env, "dns", "example.test", "--hostname", "mail.example.test", "--submission-addr", "0.0.0.0:2587")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	// The output must be a valid master file.
	zp := dns.NewZoneParser(strings.NewReader(out), "", "")
	got := map[string]string{} // "name TYPE" -> rdata (TXT strings joined)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if h.Ttl != 3600 {
			t.Errorf("%s: TTL %d", h.Name, h.Ttl)
		}
		k := h.Name + " " + dns.TypeToString[h.Rrtype]
		var v string
		switch r := rr.(type) {
		case *dns.TXT:
			for _, s := range r.Txt {
				if len(s) > 255 {
					t.Errorf("%s: string of %d octets", k, len(s))
				}
			}
			v = strings.Join(r.Txt, "")
		case *dns.MX:
			v = r.Mx
		case *dns.CNAME:
			v = r.Target
		case *dns.SRV:
			v = dns.Fqdn(r.Target) + " " + strconv.Itoa(int(r.Port))
		}
		got[k] = v
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, out)
	}
	want := map[string]string{
		"example.test. MX":                     "mail.example.test.",
		"example.test. TXT":                    "v=spf1 mx -all",
		"_dmarc.example.test. TXT":             "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test",
		"_mta-sts.example.test. TXT":           "v=STSv1; id=" + autoconfig.MTASTSPolicyID("mail.example.test"),
		"mta-sts.example.test. CNAME":          "mail.example.test.",
		"_smtp._tls.example.test. TXT":         "v=TLSRPTv1; rua=mailto:postmaster@example.test",
		"_submission._tcp.example.test. SRV":   "mail.example.test. 2587",
		"_submissions._tcp.example.test. SRV":  "mail.example.test. 465",
		"_imaps._tcp.example.test. SRV":        "mail.example.test. 993",
		"_imap._tcp.example.test. SRV":         ". 0",
		"_pop3s._tcp.example.test. SRV":        "mail.example.test. 995",
		"_pop3._tcp.example.test. SRV":         "mail.example.test. 110",
		"_sieve._tcp.example.test. SRV":        "mail.example.test. 4190",
		"autoconfig.example.test. CNAME":       "mail.example.test.",
		"autodiscover.example.test. CNAME":     "mail.example.test.",
		"_autodiscover._tcp.example.test. SRV": "mail.example.test. 443",
	}
	for _, k := range keys {
		want[k.Record()+". TXT"] = k.TXT
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d records, want %d:\n%s", len(got), len(want), out)
	}
	if !strings.Contains(out, `" "`) {
		t.Error("the RSA key's TXT was not split")
	}
}

func TestDNSJSON(t *testing.T) {
	env, keys := dnsEnv(t)
	code, out, errOut := runCmd(t, "", env, "dns", "example.test", "--format", "json", "--hostname", "mail.example.test", "--ttl", "300")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var recs []dnsRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	byName := map[string]dnsRecord{}
	for _, r := range recs {
		if r.TTL != 300 || strings.Contains(r.Value, `"`) || strings.HasSuffix(r.Name, ".") {
			t.Errorf("record %+v", r)
		}
		byName[r.Name+" "+r.Type] = r
	}
	for _, k := range keys {
		if r := byName[k.Record()+" TXT"]; r.Value != k.TXT {
			t.Errorf("DKIM %s = %q, want the unsplit %q", k.Selector, r.Value, k.TXT)
		}
	}
	if r := byName["example.test MX"]; r.Value != "10 mail.example.test" {
		t.Errorf("MX = %+v", r)
	}
}

func TestDNSErrors(t *testing.T) {
	env, _ := dnsEnv(t)
	if code, _, errOut := runCmd(t, "", env, "dns", "other.test", "--hostname", "mail.example.test"); code != exitError {
		t.Errorf("unknown domain: code %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"dns"},
		{"dns", "example.test", "--format", "yaml"},
		{"dns", "example.test", "--hostname", "not a host"},
	} {
		if code, _, _ := runCmd(t, "", env, args...); code != exitUsage {
			t.Errorf("%v: code %d, want %d", args, code, exitUsage)
		}
	}
}

// TestDNSForwardingNote: a domain with an alias to an outside address gets
// a note that its SPF must allow the hosts forwarded mail leaves from.
func TestDNSForwardingNote(t *testing.T) {
	env, _ := dnsEnv(t)
	const note = "; forwarding: the aliases fwd@example.test send copies outside with the envelope sender rewritten to SRS0=...@example.test;"
	if _, out, _ := runCmd(t, "", env, "dns", "example.test", "--hostname", "mail.example.test"); strings.Contains(out, "; forwarding") {
		t.Errorf("note without forwarding aliases:\n%s", out)
	}
	if code, _, errOut := runCmd(t, "", env, "alias", "add", "fwd@example.test", "someone@elsewhere.example"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runCmd(t, "", env, "dns", "example.test", "--hostname", "mail.example.test")
	if code != 0 || !strings.Contains(out, note+"\n") {
		t.Errorf("code %d, %s, output lacks the forwarding note:\n%s", code, errOut, out)
	}
}
