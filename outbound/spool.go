package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/store"
)

// spooled is the signed message of one attempt, in a temporary file: DKIM
// needs the whole body hashed before the signature header is written, and
// every domain's session then reads the same bytes without holding them
// in memory.
type spooled struct {
	f          *os.File
	body       Body
	headerUTF8 bool // non-ASCII in the header (RFC 6532): wants SMTPUTF8
	eightBit   bool // any byte >= 0x80 (RFC 6152)
}

func (sp *spooled) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// spool reads j's object, signs it for the sender's domain and writes it
// to a temporary file. A missing object is a permanent error.
func (s *Sender) spool(ctx context.Context, j store.Job) (*spooled, error) {
	rc, err := s.cfg.Blobs.Get(ctx, j.BlobKey, 0, -1)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, fault.Permanent(fmt.Errorf("message object %s is gone: %w", j.BlobKey, err))
		}
		return nil, fmt.Errorf("reading %s: %w", j.BlobKey, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "bucketmail-outbound-*")
	if err != nil {
		return nil, fmt.Errorf("spooling: %w", err)
	}
	sp := &spooled{f: f}
	sc := &scanner{w: f}
	domain := domainOf(j.From)
	if domain == "" {
		domain = domainOf(j.Auth)
	}
	if s.cfg.Signer != nil && domain != "" {
		err = s.cfg.Signer.Sign(ctx, domain, sc, rc)
	} else {
		_, err = io.Copy(sc, rc)
	}
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("signing for %s: %w", domain, err)
	}
	sp.body = NewBody(f, sc.n)
	sp.headerUTF8, sp.eightBit = sc.headerUTF8, sc.eightBit
	return sp, nil
}

// scanner passes bytes through, counting them and noting 8-bit bytes in
// the header and the body.
type scanner struct {
	w          io.Writer
	n          int64
	prev       [2]byte // the last bytes seen, to find the empty line
	inBody     bool
	headerUTF8 bool
	eightBit   bool
}

func (s *scanner) Write(p []byte) (int, error) {
	for _, c := range p {
		if c >= 0x80 {
			s.eightBit = true
			if !s.inBody {
				s.headerUTF8 = true
			}
		}
		if !s.inBody && c == '\n' && (s.prev[1] == '\n' || s.prev[1] == '\r' && s.prev[0] == '\n') {
			s.inBody = true
		}
		s.prev[0], s.prev[1] = s.prev[1], c
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}
