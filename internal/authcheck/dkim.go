package authcheck

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
)

// maxSignatures bounds the DKIM signatures verified per message, each of
// which costs a DNS query and a public-key operation.
const maxSignatures = 5

// checkDKIM verifies the DKIM signatures of the message read from r, and
// reports whether its header is larger than maxDKIMHeader. It may leave
// part of r unread. The header is read here, within the limits of
// dkimheader.go, and the verifier gets only what the signatures cover.
func (c *Checker) checkDKIM(ctx context.Context, r io.Reader) ([]DKIMResult, bool) {
	br := bufio.NewReader(r)
	h, err := readDKIMHeader(br)
	if err != nil {
		// The header could not be read: there is nothing to verify.
		return nil, false
	}
	return c.verifyDKIM(ctx, h, br), h.tooLarge
}

// verifyDKIM verifies the signatures of header h, the body following in br.
func (c *Checker) verifyDKIM(ctx context.Context, h *dkimHeader, br io.Reader) []DKIMResult {
	h.finish()
	sigs := h.signatures(maxSignatures)
	var covered []byte
	if h.over == "" {
		if len(sigs) == 0 {
			return nil
		}
		covered = h.covered(sigs)
	}
	if h.over != "" {
		return permErrors(sigs, h.over)
	}
	verifs, err := dkim.VerifyWithOptions(io.MultiReader(bytes.NewReader(covered), br), &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return c.Resolver.LookupTXT(ctx, name) },
		MaxVerifications: maxSignatures,
	})
	if err != nil && len(verifs) == 0 {
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

// permErrors is the result of signatures that were not verified because
// the header is past a limit: permerror for each, or a single one when
// none was seen before the limit (one may be further on).
func permErrors(sigs []*dkimField, reason string) []DKIMResult {
	if len(sigs) == 0 {
		return []DKIMResult{{Value: authres.ResultPermError, Reason: reason}}
	}
	out := make([]DKIMResult, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, DKIMResult{
			Value: authres.ResultPermError, Reason: reason,
			Domain: tag(s.raw, "d"), Identifier: tag(s.raw, "i"),
		})
	}
	return out
}
