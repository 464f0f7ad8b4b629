package imapgw

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// sortBenchMessage is message i of a 10,000-message mailbox of threads:
// one message in four starts a thread, the others reply to an earlier one
// with References, "Re:" and a list tag; senders, recipients and dates vary.
func sortBenchMessage(i int) string {
	root := i - i%4
	subject := fmt.Sprintf("[list-%d] topic %d", i%7, root)
	refs := ""
	if i != root {
		subject = "Re: " + subject
		refs = fmt.Sprintf("References: <m%d@example.net> <m%d@example.net>\r\n", root, i-1)
	}
	date := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*7919%10000) * time.Minute)
	return fmt.Sprintf("From: Sender %d <s%d@example.net>\r\nTo: User %d <u%d@example.org>\r\nSubject: %s\r\n"+
		"Date: %s\r\nMessage-ID: <m%d@example.net>\r\n%s\r\nHello %d.\r\n",
		i%97, i%97, i%13, i%13, subject, date.Format(time.RFC1123Z), i, refs, i)
}

// BenchmarkSort measures SORT (ARRIVAL, DATE, SUBJECT, FROM) and THREAD
// REFERENCES over IMAP on a mailbox of 10,000 messages, embedded and
// cloud, with the object reads per command (0: the index answers). The
// "cold" runs empty the gateway's sort-key cache before each command, as
// the first SORT of a mailbox after the gateway started finds it (the
// head cache stays: the mailbox was selected); the "warm" ones find the
// keys the commands before left there.
func BenchmarkSort(b *testing.B) {
	for _, dep := range []string{"embedded", "cloud"} {
		b.Run(dep, func(b *testing.B) {
			var env *testEnv
			if dep == "embedded" {
				env = newEnv(b)
			} else {
				env = newCloudEnv(b)
			}
			arrival := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for w := range 16 {
				wg.Go(func() {
					for i := w; i < benchMessages; i += 16 {
						if _, err := env.tryDeliver("alice@example.org", "INBOX", "Delivered-To: alice@example.org\r\n", sortBenchMessage(i), arrival); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			c := benchDial(b, env.tlsAddr)
			mustSelect(b, c, "INBOX", true)
			all := &imap.SearchCriteria{}
			run := func(name string, cold bool, cmd func() (int, error)) {
				b.Run(name, func(b *testing.B) {
					var durs []time.Duration
					gets := env.blobs.Gets()
					for b.Loop() {
						if cold {
							b.StopTimer()
							env.srv.sorts.clear()
							b.StartTimer()
						}
						start := time.Now()
						n, err := cmd()
						durs = append(durs, time.Since(start))
						if err != nil || n != benchMessages {
							b.Fatalf("%d messages, %v", n, err)
						}
					}
					slices.Sort(durs)
					b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(env.blobs.Gets()-gets)/float64(len(durs)), "reads/op")
				})
			}
			sortBy := func(k imapclient.SortKey) func() (int, error) {
				return func() (int, error) {
					ids, err := c.UIDSort(&imapclient.SortOptions{SearchCriteria: all, SortCriteria: []imapclient.SortCriterion{{Key: k}}}).Wait()
					return len(ids), err
				}
			}
			thread := func() (int, error) {
				ts, err := c.UIDThread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences, SearchCriteria: all}).Wait()
				return countThreaded(ts), err
			}
			run("SORT-ARRIVAL", false, sortBy(imapclient.SortKeyArrival))
			for _, cold := range []bool{true, false} {
				phase := map[bool]string{true: "/cold", false: "/warm"}[cold]
				run("SORT-DATE"+phase, cold, sortBy(imapclient.SortKeyDate))
				run("SORT-SUBJECT"+phase, cold, sortBy(imapclient.SortKeySubject))
				run("SORT-FROM"+phase, cold, sortBy(imapclient.SortKeyFrom))
				run("THREAD-REFERENCES"+phase, cold, thread)
			}
		})
	}
}

// clear empties the cache (for the benchmark's cold runs).
func (c *sortCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.prev, c.curBytes = map[string]*sortEntry{}, nil, 0
}

// countThreaded counts the messages of a THREAD answer.
func countThreaded(ts []imapclient.ThreadData) int {
	n := 0
	for _, t := range ts {
		n += len(t.Chain) + countThreaded(t.SubThreads)
	}
	return n
}
