package domainkeys

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// SignedHeaders are the header fields signed: those RFC 6376 section 5.4.1
// recommends, plus the MIME fields and Message-ID. A field listed but absent
// is still named in h=, so it cannot be added later without breaking the
// signature.
var SignedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
	"In-Reply-To", "References",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
	"Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
}

// spoolMemory is how much of a message Sign keeps in memory before it
// spools the rest to a temporary file.
const spoolMemory = 1 << 20

// Sign copies the message r to w with one DKIM-Signature header field per
// key of domain prepended (relaxed/relaxed, SHA-256). Without a key it
// copies r unchanged. The signatures must precede the message, so the
// message is spooled (in memory up to spoolMemory, then to a temporary
// file) while it is hashed.
func Sign(ctx context.Context, blobs blob.Store, domain string, w io.Writer, r io.Reader) error {
	keys, err := load(ctx, blobs, domain)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		_, err := io.Copy(w, r)
		return err
	}
	signers := make([]*dkim.Signer, 0, len(keys))
	writers := make([]io.Writer, 0, len(keys)+1)
	closeAll := func() {
		for _, s := range signers {
			_ = s.Close()
		}
	}
	for _, k := range keys {
		s, err := dkim.NewSigner(&dkim.SignOptions{
			Domain:                 k.Domain,
			Selector:               k.Selector,
			Signer:                 k.signer,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             SignedHeaders,
		})
		if err != nil {
			closeAll()
			return fmt.Errorf("domainkeys: signer for %s: %w", k.Record(), err)
		}
		signers = append(signers, s)
		writers = append(writers, s)
	}
	sp := &spool{}
	defer sp.close()
	if err := feed(io.MultiWriter(writers...), sp, r); err != nil {
		closeAll()
		return fmt.Errorf("domainkeys: reading message: %w", err)
	}
	var sigs bytes.Buffer
	for i, s := range signers {
		if err := s.Close(); err != nil {
			signers = signers[i+1:]
			closeAll()
			return fmt.Errorf("domainkeys: signing with %s: %w", keys[i].Record(), err)
		}
		sigs.WriteString(s.Signature())
	}
	if _, err := w.Write(sigs.Bytes()); err != nil {
		return err
	}
	return sp.writeTo(w)
}

// feed copies the message r to sp, and gives signers its signed header
// fields (header.go) and its body.
func feed(signers io.Writer, sp *spool, r io.Reader) error {
	br := bufio.NewReader(r)
	hdr, err := signedHeader(br, sp)
	if err != nil {
		return err
	}
	if _, err := signers.Write(hdr); err != nil {
		return err
	}
	_, err = io.Copy(io.MultiWriter(signers, sp), br)
	return err
}

// spool holds a message in memory and, past spoolMemory, in a temporary
// file.
type spool struct {
	mem  bytes.Buffer
	file *os.File
}

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) <= spoolMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "bucketmail-dkim-*")
		if err != nil {
			return 0, err
		}
		s.file = f
	}
	return s.file.Write(p)
}

func (s *spool) writeTo(w io.Writer) error {
	if _, err := w.Write(s.mem.Bytes()); err != nil {
		return err
	}
	if s.file == nil {
		return nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.file)
	return err
}

func (s *spool) close() {
	if s.file != nil {
		name := s.file.Name()
		_ = s.file.Close()
		_ = os.Remove(name)
	}
}
