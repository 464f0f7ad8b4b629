package authcheck

import (
	"testing"

	"github.com/emersion/go-msgauth/authres"
)

func TestAuthorAuthenticated(t *testing.T) {
	var pass, fail authres.ResultValue = authres.ResultPass, authres.ResultFail
	for _, tc := range []struct {
		name string
		res  Result
		want bool
	}{
		{"spf aligned", Result{SPF: pass, SPFDomain: "example.org", FromDomain: "example.org", FromDomains: []string{"example.org"}}, true},
		{"spf relaxed", Result{SPF: pass, SPFDomain: "bounce.example.org", FromDomain: "example.org", FromDomains: []string{"example.org"}}, true},
		{"spf other domain", Result{SPF: pass, SPFDomain: "evil.test", FromDomain: "example.org", FromDomains: []string{"example.org"}}, false},
		{"spf fail", Result{SPF: fail, SPFDomain: "example.org", FromDomain: "example.org", FromDomains: []string{"example.org"}}, false},
		{"dkim aligned", Result{DKIM: []DKIMResult{{Value: fail, Domain: "example.org"}, {Value: pass, Domain: "example.org"}},
			FromDomain: "example.org", FromDomains: []string{"example.org"}}, true},
		{"dkim other domain", Result{DKIM: []DKIMResult{{Value: pass, Domain: "evil.test"}}, FromDomain: "example.org", FromDomains: []string{"example.org"}}, false},
		{"two authors", Result{SPF: authres.ResultPass, SPFDomain: "example.org", FromDomains: []string{"example.org", "evil.test"}}, false},
		{"no From", Result{SPF: authres.ResultPass, SPFDomain: "example.org"}, false},
	} {
		if got := tc.res.AuthorAuthenticated(); got != tc.want {
			t.Errorf("%s: AuthorAuthenticated = %v, want %v", tc.name, got, tc.want)
		}
	}
}
