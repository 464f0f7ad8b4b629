package blob

// MetaLimiter is implemented by stores that cap the size of an object's
// metadata (S3: 2 KiB, counting keys and values). Writers that put data of
// variable length into metadata, like the edge's envelope, stay below it.
type MetaLimiter interface {
	// MetaLimit is the largest sum of key and value lengths Put accepts.
	MetaLimit() int
}

// MetaSize is the size of meta as MetaLimit counts it.
func MetaSize(meta map[string]string) int {
	n := 0
	for k, v := range meta {
		n += len(k) + len(v)
	}
	return n
}
