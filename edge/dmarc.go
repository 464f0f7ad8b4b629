package edge

import (
	"context"
	"fmt"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/store"
)

// errDMARCReject refuses a message that fails DMARC under p=reject
// (RFC 7489 section 6.3 and 10.3: reject during the SMTP transaction).
var errDMARCReject = reply(c550MailboxUnavail, e571Denied, "Message rejected by the DMARC policy of the sender's domain")

// checkDMARC evaluates the stored object of a port-25 job when
// Config.DMARCReject is set and, if DMARC fails under a reject policy,
// deletes the object and returns the 550 reply. A failure to read the
// object answers 451. Quarantine failures pass: the worker files them to
// Junk. The object is read back rather than teed from the client's stream
// so that a slow DNS answer never holds up the upload.
func (s *session) checkDMARC(ctx context.Context, job store.Job) (*smtp.SMTPError, string, error) {
	c := s.srv.cfg.DMARCReject
	if c == nil || s.mode != MX || job.Auth != "" {
		return nil, "", nil
	}
	res, err := s.authCheck(ctx, c, job)
	if err != nil {
		s.deleteObject(job.BlobKey)
		return s.storageFailure(nil, "dmarc", err), "storage", err
	}
	if res.Disposition != authcheck.DispositionReject {
		return nil, "", nil
	}
	s.deleteObject(job.BlobKey)
	s.reject("dmarc_reject")
	return errDMARCReject, "dmarc_reject", fmt.Errorf("dmarc=%s header.from=%s spf=%s policy=%s",
		res.DMARC, res.FromDomain, res.SPF, res.Policy)
}

func (s *session) authCheck(ctx context.Context, c *authcheck.Checker, job store.Job) (authcheck.Result, error) {
	defer s.srv.observe("blob", "get")()
	rc, err := s.srv.cfg.Blobs.Get(ctx, job.BlobKey, 0, -1)
	if err != nil {
		return authcheck.Result{}, err
	}
	defer rc.Close()
	return c.Check(ctx, job.ClientIP, job.Helo, job.From, rc)
}
