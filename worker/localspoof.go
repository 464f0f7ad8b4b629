package worker

import (
	"context"
	"log/slog"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/store"
)

// localSpoof reports why a message received on port 25 claims one of our
// domains without proof, or "" when it does not: its From: names a local
// domain without an aligned SPF or DKIM pass (authcheck.Result.
// AuthorAuthenticated), or its MAIL FROM is in a local domain that SPF did
// not pass. We know our own domains' policy without DNS: our users submit
// with AUTH (such jobs carry Auth and are not checked) and our outbound
// mail is DKIM-signed, so whatever else claims our domain is filed to
// Junk, whether or not the domain publishes SPF or DMARC records.
func (w *Worker) localSpoof(ctx context.Context, j store.Job, auth *authcheck.Result) string {
	for _, d := range auth.FromDomains {
		if d != "" && w.isLocal(ctx, d) && !auth.AuthorAuthenticated() {
			return "header_from"
		}
	}
	if _, d, ok := strings.Cut(j.From, "@"); ok && w.isLocal(ctx, strings.ToLower(d)) &&
		(auth.SPF != authres.ResultPass || !strings.EqualFold(auth.SPFDomain, d)) {
		return "mail_from"
	}
	return ""
}

// isLocal asks the directory whether domain is ours. A failing directory
// answers no: the message then goes where DMARC alone puts it.
func (w *Worker) isLocal(ctx context.Context, domain string) bool {
	ok, err := w.cfg.Store.HasDomain(ctx, domain)
	if err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "local domain check failed", slog.String("domain", domain),
			slog.String("error", err.Error()))
		return false
	}
	return ok
}
