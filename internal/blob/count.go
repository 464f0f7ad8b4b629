package blob

import "io"

// Counter receives a count of bytes; a prometheus.Counter is one.
type Counter interface{ Add(float64) }

// CountReads returns rc adding the bytes read through it to c: drivers
// wrap what Get returns, so the count is what left the disk or the
// network, not what the object holds.
func CountReads(rc io.ReadCloser, c Counter) io.ReadCloser {
	if c == nil {
		return rc
	}
	return &countingReader{rc: rc, c: c}
}

type countingReader struct {
	rc io.ReadCloser
	c  Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 {
		r.c.Add(float64(n))
	}
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
