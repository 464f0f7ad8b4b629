package imapgw

import (
	"context"
	"crypto/tls"
	"database/sql"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/tlsconf"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/emersion/go-imap/v2"
	"github.com/oklog/ulid/v2"
	_ "modernc.org/sqlite"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob/s3"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/search/searchtest"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// benchMessages is the size of the mailbox BenchmarkSearchText searches.
const benchMessages = 10000

// scanAll is a text index that knows nothing: every message is read, as
// before the index (the baseline).
type scanAll struct{ st Store }

func (x scanAll) SearchText(ctx context.Context, userID, mailboxID, _ string, _ bool) ([]uint32, []uint32, error) {
	uids, err := x.st.UIDs(ctx, userID, mailboxID)
	return nil, uids, err
}

// BenchmarkSearchText measures UID SEARCH BODY and TEXT over IMAP for a
// rare and a common word in a mailbox of 10,000 generated messages
// (searchtest.Corpus): embedded (SQLite, FTS5), cloud (Redis, bucket
// segments in versitygw) and the scan of every message as it was before
// the index. It reports the median time, object reads and bytes read per
// search, and the index's bytes per message.
func BenchmarkSearchText(b *testing.B) {
	for _, dep := range []string{"embedded", "cloud", "scan"} {
		b.Run(dep, func(b *testing.B) {
			addr, blobs, size := benchMailbox(b, dep)
			c := benchDial(b, addr)
			mustSelect(b, c, "INBOX", true)
			for _, q := range []struct {
				name string
				crit imap.SearchCriteria
				want int
			}{
				{"BODY-rare", imap.SearchCriteria{Body: []string{searchtest.RareWord}}, benchMessages / 2500},
				{"BODY-common", imap.SearchCriteria{Body: []string{searchtest.CommonWord}}, benchMessages / 2},
				{"TEXT-rare", imap.SearchCriteria{Text: []string{searchtest.RareWord}}, benchMessages / 2500},
				{"TEXT-common", imap.SearchCriteria{Text: []string{searchtest.CommonWord}}, benchMessages / 2},
			} {
				b.Run(q.name, func(b *testing.B) {
					var durs []time.Duration
					gets, bytes := blobs.Gets(), blobs.Bytes()
					for b.Loop() {
						start := time.Now()
						data, err := c.UIDSearch(&q.crit, nil).Wait()
						durs = append(durs, time.Since(start))
						if err != nil {
							b.Fatal(err)
						}
						if n := len(data.AllUIDs()); n != q.want {
							b.Fatalf("%d matches, want %d", n, q.want)
						}
					}
					slices.Sort(durs)
					b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(blobs.Gets()-gets)/float64(len(durs)), "reads/op")
					b.ReportMetric(float64(blobs.Bytes()-bytes)/float64(len(durs)), "read-B/op")
					b.ReportMetric(size, "index-B/msg")
				})
			}
		})
	}
}

// benchMailbox fills alice's INBOX with the corpus in deployment dep and
// returns the gateway's address, its blob counter and the index's bytes
// per message.
func benchMailbox(b *testing.B, dep string) (string, *testenv.CountingBlobs, float64) {
	var (
		deliver func(raw string) error
		size    func() float64
		addr    string
		blobs   *testenv.CountingBlobs
	)
	switch dep {
	case "embedded", "scan":
		env := newEnv(b, func(cfg *Config) {
			if dep == "scan" {
				cfg.TextIndex = scanAll{cfg.Store}
			}
		})
		env.noText = dep == "scan"
		addr, blobs = env.tlsAddr, env.blobs
		deliver = func(raw string) error {
			_, err := env.tryDeliver("alice@example.org", "INBOX", "Delivered-To: alice@example.org\r\n", raw, time.Now())
			return err
		}
		size = func() float64 { return sqliteIndexBytes(b, filepath.Join(env.dir, "bucketmail.db")) }
	case "cloud":
		addr, blobs, deliver, size = cloudGateway(b)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchMessages; i += 16 {
				if err := deliver(searchtest.Corpus(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return addr, blobs, size() / benchMessages
}

// sqliteIndexBytes is the size of the FTS5 table: its index and its copy
// of the text.
func sqliteIndexBytes(b *testing.B, path string) float64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var idx, text sql.NullInt64
	if err := db.QueryRow("SELECT sum(length(block)) FROM search_text_data").Scan(&idx); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow("SELECT sum(length(c0) + length(c1)) FROM search_text_content").Scan(&text); err != nil {
		b.Fatal(err)
	}
	return float64(idx.Int64 + text.Int64)
}

// cloudGateway is a gateway on Redis and versitygw with the segment index.
func cloudGateway(b *testing.B) (string, *testenv.CountingBlobs, func(string) error, func() float64) {
	ctx := context.Background()
	rs, s3srv := testenv.Redis(b), testenv.S3(b)
	db, err := redis.Open(ctx, rs.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	bs, err := s3.Open(ctx, s3srv.URL("bench"), s3.Options{AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey, CreateBucket: true})
	if err != nil {
		b.Fatal(err)
	}
	blobs := &testenv.CountingBlobs{Store: bs}
	if err := db.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		b.Fatal(err)
	}
	u, err := db.AddUser(ctx, "alice@example.org", hash)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.EnsureUser(ctx, u.ID); err != nil {
		b.Fatal(err)
	}
	inbox, err := db.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	w := &search.Writer{Blobs: bs, Store: db}
	srv := New(Config{Hostname: "localhost", TLS: benchTLS(b), Store: db, Blobs: blobs,
		Auth: auth.New(db, auth.Options{}), Metrics: metrics.New(),
		TextIndex: &search.Index{Blobs: blobs, Store: db}, TextSink: w})
	b.Cleanup(func() { srv.Close() })
	env := &testEnv{srv: srv}
	addr := env.listen(b, true)
	deliver := func(raw string) error {
		key, sum, text, size, err := putMessage(ctx, bs, ulid.Make().String(), strings.NewReader(raw), nil)
		if err != nil {
			return err
		}
		prefix := "Delivered-To: alice@example.org\r\n"
		st := search.EntryText([]byte(prefix), *text)
		if _, _, err := db.InsertMessage(ctx, u.ID, inbox.ID, "", store.NewMessage{BlobKey: key, Prefix: []byte(prefix),
			Size: int64(len(prefix)) + size, InternalDate: time.Now(), Summary: sum.Marshal()}); err != nil {
			return err
		}
		w.AddText(u.ID, key, st)
		return nil
	}
	size := func() float64 {
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		// Merge what the batches left, as the writer does over time.
		infos, err := bs.List(ctx, search.SegmentPrefix(u.ID), "", 10000)
		if err != nil {
			b.Fatal(err)
		}
		var keys []string
		for _, in := range infos {
			keys = append(keys, in.Key)
		}
		if err := search.Merge(ctx, bs, db, u.ID, keys); err != nil {
			b.Fatal(err)
		}
		infos, err = bs.List(ctx, search.SegmentPrefix(u.ID), "", 10000)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for _, in := range infos {
			n += in.Size
		}
		return float64(n)
	}
	return addr, blobs, deliver, size
}

func benchTLS(b *testing.B) *tls.Config {
	cfg, err := tlsconf.Load("", "", b.TempDir(), "localhost", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func benchDial(b *testing.B, addr string) *imapclient.Client {
	c, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		b.Fatal(err)
	}
	return c
}
