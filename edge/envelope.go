package edge

import (
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// metaMargin leaves room, below a store's metadata limit, for values that a
// driver must encode at more than their length.
const metaMargin = 256

// envelopeFits reports whether the envelope of tx with one more recipient
// still fits in the object metadata the blob store accepts. The envelope
// must travel with the object (invariant 2), so an object store with a small
// limit (S3: 2 KiB) caps recipients per transaction; the client gets 452 and
// sends the rest in another transaction (RFC 5321 section 4.5.3.1.10).
func (s *session) envelopeFits(tx *transaction, to string) bool {
	lim, ok := s.srv.cfg.Blobs.(blob.MetaLimiter)
	if !ok {
		return true
	}
	s.mu.Lock()
	rcpts := append(append([]string(nil), tx.rcpts...), to)
	s.mu.Unlock()
	job := store.Job{
		ID:         "01JAAAAAAAAAAAAAAAAAAAAAAA", // a ULID's length
		Queue:      store.QueueOutbound,          // the longer queue name
		From:       tx.from,
		To:         rcpts,
		ReceivedAt: time.Date(2000, 1, 1, 0, 0, 0, 123456789, time.UTC),
		ClientIP:   s.clientIP,
		Helo:       tx.helo,
		Auth:       tx.auth,
	}
	return blob.MetaSize(store.JobMeta(job)) <= lim.MetaLimit()-metaMargin
}
