// Package testenv is the one test harness: the storage a test runs over,
// embedded (SQLite in a temporary directory, blobs in a local directory) or
// cloud (a real redis-server and a real S3 server, versitygw), with the same
// shape, so that a test can run against both with Each; and what the tests of
// the protocol servers share: users with a known password, a self-signed
// certificate, a log that keeps what was logged, a blob store that counts
// its reads, raw connections.
//
// The servers themselves are started by internal/testenv/servers; Redis and
// S3 here are the same, for tests that need a server without a driver.
//
// Nothing is skipped: a server that cannot start fails the test, so a green
// run means both drivers were really exercised. testenv imports the storage
// drivers and internal/auth only, never a package whose in-package tests
// use it.
package testenv

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/blob/fs"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// Env is the storage of one test. Store and Blobs are set in both
// deployments; the fields below them say which drivers they are.
type Env struct {
	// Name is "embedded" or "cloud"; Each names its subtests after it.
	Name  string
	Store store.Store
	Blobs blob.Store
	// Dir is a temporary directory of the test. Embedded, it is laid out
	// as the data directory of `bucketmail run`: bucketmail.db and blobs/.
	Dir string

	// SQLite is Store, embedded; nil in the cloud.
	SQLite *sqlite.DB

	// Redis is Store in the cloud, on RedisServer; S3Server holds Bucket,
	// the bucket of Blobs. All nil (and "") embedded.
	Redis       *redis.DB
	RedisServer *RedisServer
	S3Server    *S3Server
	Bucket      string

	t testing.TB
}

// Embedded returns the storage of `bucketmail run`: SQLite at
// Dir/bucketmail.db and the blob directory Dir/blobs. Both are closed when
// the test ends.
func Embedded(t testing.TB) *Env {
	t.Helper()
	dir := t.TempDir()
	db := OpenSQLite(t, filepath.Join(dir, "bucketmail.db"))
	return &Env{Name: "embedded", Store: db, Blobs: openFS(t, filepath.Join(dir, "blobs")), Dir: dir, SQLite: db, t: t}
}

// LocalBlobs is a blob store of its own in a temporary directory, for a
// test that keeps only keys or certificates there.
func LocalBlobs(t testing.TB) blob.Store {
	t.Helper()
	return openFS(t, t.TempDir())
}

func openFS(t testing.TB, dir string) *fs.Store {
	t.Helper()
	blobs, err := fs.Open(dir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return blobs
}

// Cloud returns the storage of a cloud deployment: the Redis store on a
// redis-server and the S3 store on a new bucket of a versitygw, both
// started for t and stopped when it ends.
func Cloud(t testing.TB) *Env {
	t.Helper()
	rds, s3srv := Redis(t), S3(t)
	db := OpenRedis(t, rds)
	bucket := s3srv.Bucket(t, "")
	blobs, err := s3.Open(context.Background(), s3srv.URL(bucket), s3.Options{AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return &Env{Name: "cloud", Store: db, Blobs: blobs, Dir: t.TempDir(),
		Redis: db, RedisServer: rds, S3Server: s3srv, Bucket: bucket, t: t}
}

// Each runs test as two subtests, "embedded" and "cloud", each over its
// own storage.
func Each(t *testing.T, test func(t *testing.T, e *Env)) {
	t.Helper()
	for _, d := range []struct {
		name string
		open func(testing.TB) *Env
	}{{"embedded", Embedded}, {"cloud", Cloud}} {
		t.Run(d.name, func(t *testing.T) { test(t, d.open(t)) })
	}
}

// OpenSQLite opens (or creates) the SQLite store at path, closed when the
// test ends: for a second handle on a file, as another process would have,
// or a new empty index.
func OpenSQLite(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenRedis opens the Redis store on srv, closed when the test ends: a
// handle of the test's own on the store of the processes it runs.
func OpenRedis(t testing.TB, srv *RedisServer) *redis.DB {
	t.Helper()
	db, err := redis.Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenDataDir opens the store and blobs of the data directory of a
// `bucketmail` process (default --store and --blobs), from the test
// process, as a second process would: SQLite is multi-process.
func OpenDataDir(t testing.TB, dir string) *Env {
	t.Helper()
	db := OpenSQLite(t, filepath.Join(dir, "bucketmail.db"))
	return &Env{Name: "embedded", Store: db, Blobs: openFS(t, filepath.Join(dir, "blobs")), Dir: dir, SQLite: db, t: t}
}

// Domain adds domain; one the store has is fine.
func (e *Env) Domain(domain string) {
	e.t.Helper()
	if err := e.Store.AddDomain(context.Background(), domain); err != nil && !errors.Is(err, store.ErrExists) {
		e.t.Fatalf("testenv: adding domain %s: %v", domain, err)
	}
}

// RedisServer is a redis-server of one test (servers.RedisServer).
type RedisServer = servers.RedisServer

// S3Server is a versitygw of one test (servers.S3Server).
type S3Server = servers.S3Server

// Redis starts a redis-server for t (servers.Redis).
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	return servers.Redis(t)
}

// S3 starts a versitygw for t (servers.S3).
func S3(t testing.TB) *S3Server {
	t.Helper()
	return servers.S3(t)
}
