package dsn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
)

// MaxHeader caps the original header returned in a notice.
const MaxHeader = 64 << 10

// Job is the job of the notice id to the address to, decided at at, on
// queue. Its envelope sender is null (RFC 3464 section 2; RFC 5321
// section 4.5.5: no notice about a notice), and Auth marks it as made by
// hostname, so the worker does not judge it as port-25 mail (SPF, DMARC
// of our own host name).
func Job(id, queue, to, hostname string, at time.Time) store.Job {
	return store.Job{ID: id, Queue: queue, BlobKey: blob.MessageKey(id), From: "", To: []string{to},
		ReceivedAt: at, Auth: "MAILER-DAEMON@" + hostname}
}

// Submit sends the notice p to the original sender p.From through queue:
// it writes the notice as a message object and enqueues its job (Job).
// p.ID must be fixed before the first try (derived, or kept in the job's
// state), so that a try again finds the job known, writes nothing and
// reports a duplicate instead of sending a second notice.
func Submit(ctx context.Context, in intake.Intake, queue string, p Params) (duplicate bool, err error) {
	j := Job(p.ID, queue, p.From, p.Hostname, p.At)
	duplicate, err = in.SubmitNew(ctx, j, func(context.Context) (io.ReadCloser, error) {
		var buf bytes.Buffer
		if err := Write(&buf, p); err != nil {
			return nil, fmt.Errorf("dsn: writing %s: %w", p.ID, err)
		}
		return io.NopCloser(&buf), nil
	})
	if err != nil {
		return false, fmt.Errorf("dsn: sending %s: %w", p.ID, err)
	}
	return duplicate, nil
}

// OriginalHeader reads the header block of the object key, up to
// MaxHeader bytes, for Params.Header (RFC 3462 section 2: returning the
// header only keeps a notice about a big message small). A message that
// is gone has none.
func OriginalHeader(ctx context.Context, blobs blob.Store, key string) ([]byte, error) {
	rc, err := blobs.Get(ctx, key, 0, MaxHeader)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dsn: reading the original header: %w", err)
	}
	defer rc.Close()
	var out bytes.Buffer
	br := bufio.NewReader(rc)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		out.Write(bytes.TrimRight(line, "\r\n"))
		out.WriteString("\r\n")
		if err != nil {
			break
		}
	}
	return out.Bytes(), nil
}
