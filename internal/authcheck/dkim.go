package authcheck

import (
	"context"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
)

// maxSignatures bounds the DKIM signatures verified per message, each of
// which costs a DNS query and a public-key operation.
const maxSignatures = 5

// checkDKIM verifies the DKIM signatures of the message read from r. It
// may leave part of r unread.
func (c *Checker) checkDKIM(ctx context.Context, r io.Reader) []DKIMResult {
	verifs, err := dkim.VerifyWithOptions(r, &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return c.Resolver.LookupTXT(ctx, name) },
		MaxVerifications: maxSignatures,
	})
	if err != nil && len(verifs) == 0 {
		// The header could not be read: there is nothing to verify.
		return nil
	}
	out := make([]DKIMResult, 0, len(verifs))
	for _, v := range verifs {
		d := DKIMResult{Value: authres.ResultPass, Domain: strings.ToLower(v.Domain), Identifier: v.Identifier}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			d.Value, d.Reason = authres.ResultTempError, v.Err.Error()
		case dkim.IsPermFail(v.Err):
			d.Value, d.Reason = authres.ResultPermError, v.Err.Error()
		default:
			d.Value, d.Reason = authres.ResultFail, v.Err.Error()
		}
		out = append(out, d)
	}
	return out
}
