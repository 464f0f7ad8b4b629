package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/auth"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/redis"
	"github.com/bucketmail/bucketmail/internal/testenv"
	"github.com/bucketmail/bucketmail/worker"
)

// BenchmarkRedisMemory delivers b.N messages to 20 users through the real
// worker into a fresh redis-server and reports used_memory growth per
// message (INFO memory): index entry with its summary, idempotency key,
// blob reference count and the acked-job record the reconciler consults.
// Run it with a fixed count, e.g.
//
//	go test ./tests -run '^$' -bench RedisMemory -benchtime 10000x
//
// docs/deploy-cloud.md extrapolates its figures to a million messages.
func BenchmarkRedisMemory(b *testing.B) {
	for _, m := range []struct {
		name string
		raw  func(i int) string
	}{
		{"small", smallMessage},
		{"typical", typicalMessage},
	} {
		for _, idx := range []bool{true, false} {
			name := m.name + map[bool]string{true: "/search-on", false: "/search-off"}[idx]
			b.Run(name, func(b *testing.B) { benchRedisMemory(b, m.raw, idx) })
		}
	}
}

func benchRedisMemory(b *testing.B, raw func(i int) string, searchIndex bool) {
	ctx := context.Background()
	rds := testenv.Redis(b)
	st := testenv.OpenRedis(b, rds)
	bl := testenv.LocalBlobs(b)
	users := memoryUsers(b, st)
	before := usedMemory(b, st)

	b.ResetTimer()
	for i := range b.N {
		to := users[i%len(users)]
		id := ulid.Make().String()
		j := store.Job{ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id), From: "sender@remote.example",
			To: []string{to}, ReceivedAt: time.Now().UTC(), ClientIP: "192.0.2.1", Helo: "mx.remote.example"}
		if _, err := bl.Put(ctx, j.BlobKey, strings.NewReader(raw(i)), store.JobMeta(j)); err != nil {
			b.Fatal(err)
		}
		if err := st.Enqueue(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	runWorkerUntilDrained(b, st, bl, b.N, searchIndex)
	b.StopTimer()

	after := usedMemory(b, st)
	b.ReportMetric(float64(after-before)/float64(b.N), "redis-bytes/msg")
	// Of which the record of acked jobs (settle.lua's Q:done), kept for
	// store.DoneRetention only.
	done, err := st.Client().MemoryUsage(context.Background(), "{q:inbound}:done", 0).Result()
	if err != nil {
		b.Fatalf("MEMORY USAGE of the acked-job record: %v", err)
	}
	b.ReportMetric(float64(done)/float64(b.N), "done-record-bytes/msg")
	b.ReportMetric(float64(len(raw(0))), "msg-bytes")
}

// memoryUsers makes a domain with 20 users and their mailboxes.
func memoryUsers(b *testing.B, st *redis.DB) []string {
	ctx := context.Background()
	if err := st.AddDomain(ctx, "mem.example"); err != nil {
		b.Fatal(err)
	}
	hash, err := auth.HashPassword("not-used")
	if err != nil {
		b.Fatal(err)
	}
	var users []string
	for i := range 20 {
		u := fmt.Sprintf("user%02d@mem.example", i)
		if _, err := st.AddUser(ctx, u, hash); err != nil {
			b.Fatal(err)
		}
		users = append(users, u)
	}
	return users
}

// runWorkerUntilDrained runs a worker until n deliveries are acked.
func runWorkerUntilDrained(b *testing.B, st *redis.DB, bl blob.Store, n int, searchIndex bool) {
	ctx, cancel := context.WithCancel(context.Background())
	// With the search index on, texts go to segments in the bucket, as
	// with --store redis in production; none may reach Redis.
	var sink store.TextSink
	if searchIndex {
		sw := &search.Writer{Blobs: bl, Store: st}
		sctx, scancel := context.WithCancel(context.Background())
		sdone := make(chan error, 1)
		go func() { sdone <- sw.Run(sctx) }()
		defer func() { scancel(); <-sdone }()
		sink = sw
	}
	w := worker.New(worker.Config{Store: st, Blobs: bl, Hostname: "mx.mem.example", Concurrency: 8,
		Log: slog.New(slog.DiscardHandler), NoSearchIndex: !searchIndex, TextSink: sink})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			b.Errorf("worker: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		qs, err := st.QueueStats(context.Background(), store.QueueInbound)
		if err != nil {
			b.Fatal(err)
		}
		if qs.Pending+qs.InFlight+qs.Delayed == 0 {
			if qs.Dead != 0 {
				b.Fatalf("%d of %d jobs dead", qs.Dead, n)
			}
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("queue not drained: %+v", qs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// usedMemory is INFO memory's used_memory.
func usedMemory(b *testing.B, st *redis.DB) int64 {
	info, err := st.Client().Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no used_memory in INFO memory:\n%s", info)
	return 0
}

// smallMessage is a short plain-text message like the tests send.
func smallMessage(i int) string {
	return message("sender@remote.example", "user@mem.example", fmt.Sprintf("small %d", i), "hello")
}

// typicalMessage is shaped like a message from a large provider or a
// newsletter: a 2.5 KB header (trace, DKIM, ARC, list headers) and a
// multipart/alternative body, about 9 KB in all.
func typicalMessage(i int) string {
	var h bytes.Buffer
	for hop := range 3 {
		fmt.Fprintf(&h, "Received: from mail-%d.out.example.net (mail-%d.out.example.net [198.51.100.%d])\r\n"+
			"\tby relay%d.example.com with ESMTPS id %s\r\n\tfor <user@mem.example>; Mon, 2 Jan 2006 15:04:0%d +0000\r\n",
			hop, hop, 10+hop, hop, ulid.Make().String(), hop)
	}
	sig := strings.Repeat("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/", 9)
	h.WriteString("ARC-Seal: i=1; a=rsa-sha256; t=1136214245; cv=none; d=example.net; s=arc-20160816;\r\n\tb=" + sig[:300] + "\r\n")
	h.WriteString("ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc-20160816;\r\n" +
		"\th=to:subject:message-id:date:from:mime-version:dkim-signature;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=" + sig[:300] + "\r\n")
	h.WriteString("ARC-Authentication-Results: i=1; mx.example.net; dkim=pass header.i=@example.com; spf=pass smtp.mailfrom=news@example.com\r\n")
	h.WriteString("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601;\r\n" +
		"\th=to:subject:message-id:date:from:mime-version:from:to:cc:subject:date:message-id:reply-to;\r\n" +
		"\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=" + sig[:340] + "\r\n")
	h.WriteString("List-Unsubscribe: <https://news.example.com/unsubscribe?u=0123456789abcdef&id=fedcba9876543210>, <mailto:unsubscribe@news.example.com>\r\n")
	h.WriteString("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	h.WriteString("List-Id: Example News <news.example.com>\r\n")
	h.WriteString("From: Example News <news@example.com>\r\nReply-To: Example Support <support@example.com>\r\n")
	h.WriteString("To: Some User <user@mem.example>\r\n")
	fmt.Fprintf(&h, "Subject: Your weekly digest no. %d: what happened this week\r\n", i)
	fmt.Fprintf(&h, "Message-ID: <%s@mail.example.com>\r\n", ulid.Make().String())
	h.WriteString("Date: Mon, 02 Jan 2006 15:04:05 +0000\r\nMIME-Version: 1.0\r\n")
	h.WriteString("Content-Type: multipart/alternative; boundary=\"b1_0123456789\"\r\n\r\n")
	text := strings.Repeat("This week in the digest: several paragraphs of plain text.\r\n", 40)
	html := "<html><body>" + strings.Repeat("<p style=\"margin:0\">This week in the digest: several paragraphs.</p>\r\n", 60) + "</body></html>\r\n"
	h.WriteString("--b1_0123456789\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + text)
	h.WriteString("--b1_0123456789\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + html)
	h.WriteString("--b1_0123456789--\r\n")
	return h.String()
}
