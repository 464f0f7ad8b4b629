package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// opaque hides Seek and WriteTo, as a network stream does.
type opaque struct{ io.Reader }

// TestMetadataEdgeCases: values HTTP or minio-go would alter, and keys
// that are standard header names, round-trip; plain values are stored as
// they are, readable by other tools.
func TestMetadataEdgeCases(t *testing.T) {
	srv := testenv.S3(t)
	st, bucket := openBucket(t, srv, s3.Options{})
	ctx := context.Background()
	meta := map[string]string{
		"from":          "a%40b@example.org",
		"empty":         "",
		"lead":          "  x",
		"trail":         "x ",
		"rfc2047":       "=?utf-8?q?caf=C3=A9?=",
		"mark":          "b64:aGk=",
		"content-type":  "not/a-header",
		"expires":       "never",
		"cache-control": "none",
		"x-amz-meta-k":  "nested",
	}
	if _, err := st.Put(ctx, "m", strings.NewReader("x"), meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	info, err := st.Stat(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range meta {
		if got, ok := info.Meta[k]; !ok || got != v {
			t.Errorf("meta[%q] = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if len(info.Meta) != len(meta) {
		t.Errorf("Stat meta = %q, want %q", info.Meta, meta)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.StatObject(ctx, bucket, "m", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.ContentType != "application/octet-stream" {
		t.Errorf("Content-Type = %q", raw.ContentType)
	}
	if got := raw.UserMetadata["From"]; got != meta["from"] {
		t.Errorf("raw x-amz-meta-from = %q, want it unencoded", got)
	}
}

func TestMetadataTooLarge(t *testing.T) {
	srv := testenv.S3(t)
	st := open(t, srv, s3.Options{})
	_, err := st.Put(context.Background(), "m", strings.NewReader("x"), map[string]string{"to": strings.Repeat("a", 2100)})
	if !errors.Is(err, blob.ErrBadMeta) || !fault.IsPermanent(err) {
		t.Fatalf("Put with 2 KiB of metadata = %v, want permanent ErrBadMeta", err)
	}
}

// TestMultipart: an object larger than PartSize streams in parts.
func TestMultipart(t *testing.T) {
	srv := testenv.S3(t)
	st, bucket := openBucket(t, srv, s3.Options{PartSize: 1}) // raised to S3's 5 MiB minimum
	ctx := context.Background()
	const size = 11<<20 + 7
	want := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{2}), size), want)
	n, err := st.Put(ctx, "big", opaque{src}, map[string]string{"k": "v"})
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v; want %d", n, err, size)
	}
	info, err := st.Stat(ctx, "big")
	if err != nil || info.Size != size || info.Meta["k"] != "v" {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	rc, err := st.Get(ctx, "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	m, err := io.Copy(got, rc)
	rc.Close()
	if err != nil || m != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("Get: %d bytes, %v, same content %v", m, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.StatObject(ctx, bucket, "big", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw.ETag, "-") { // "<md5 of md5s>-<parts>"
		t.Errorf("ETag %q is not a multipart ETag", raw.ETag)
	}

	// Exactly one part: the probe byte finds the end.
	exact := bytes.Repeat([]byte("x"), 5<<20)
	if n, err := st.Put(ctx, "exact", opaque{bytes.NewReader(exact)}, nil); err != nil || n != int64(len(exact)) {
		t.Fatalf("Put of exactly one part = %d, %v", n, err)
	}
	if info, err := st.Stat(ctx, "exact"); err != nil || info.Size != int64(len(exact)) {
		t.Fatalf("Stat(exact) = %+v, %v", info, err)
	}
}

// TestPrefix: a URL prefix is prepended to keys and hidden from List.
func TestPrefix(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	bucket := srv.Bucket(t, "")
	opt := s3.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	u := srv.URL(bucket)
	st, err := s3.Open(ctx, strings.Replace(u, "?", "/prod/eu?", 1), opt)
	if err != nil {
		t.Fatal(err)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"other", "prod/eux", "prod/e"} { // outside the prefix
		if _, err := c.PutObject(ctx, bucket, k, strings.NewReader("o"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"msg/1", "msg/2", "z"} {
		if _, err := st.Put(ctx, k, strings.NewReader(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.StatObject(ctx, bucket, "prod/eu/msg/1", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}
	infos, err := st.List(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, in := range infos {
		keys = append(keys, in.Key)
	}
	if want := []string{"msg/1", "msg/2", "z"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %q, want %q", keys, want)
	}
	if infos, err := st.List(ctx, "msg/", "msg/1", 10); err != nil || len(infos) != 1 || infos[0].Key != "msg/2" {
		t.Fatalf("List(msg/, msg/1) = %+v, %v", infos, err)
	}
	if err := st.Delete(ctx, "msg/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, "msg/1"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v", err)
	}
}
