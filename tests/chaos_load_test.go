package e2e

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// outcome is what one SMTP transaction told the client.
type outcome int

const (
	// refused: a reply other than 250, or the connection failed before the
	// final dot was sent: the message was certainly not accepted.
	refused outcome = iota
	// accepted: 250 to the final dot.
	accepted
	// unknown: the connection failed after the final dot was sent, before
	// the reply (RFC 5321 section 4.1.1.4: the client cannot know whether
	// the server took responsibility; a retry may duplicate).
	unknown
)

// attempt is one transaction for a message.
type attempt struct {
	result outcome
	code   int       // SMTP reply code, 0 for a connection error
	dot    time.Time // when the client started sending the final dot
	reply  time.Time // when the reply (or error) came
}

// tracker records every attempt for every message, by subject.
type tracker struct {
	mu       sync.Mutex
	attempts map[string][]attempt
	rcpt     map[string]string // subject → recipient
}

func newTracker() *tracker {
	return &tracker{attempts: map[string][]attempt{}, rcpt: map[string]string{}}
}

func (tr *tracker) add(subject, rcpt string, a attempt) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.attempts[subject] = append(tr.attempts[subject], a)
	tr.rcpt[subject] = rcpt
}

// chaosClientTimeout bounds every SMTP command of the load generator, so a
// frozen backend (Pause) makes a client wait, never hang.
const chaosClientTimeout = 20 * time.Second

// sendOnce runs one transaction over a fresh plain-text connection (port 25
// does not require TLS, RFC 3207 section 4) and classifies its outcome.
func sendOnce(addr, from, to, msg string) attempt {
	fail := func(err error, afterDot bool, dot time.Time) attempt {
		a := attempt{result: refused, code: smtpCode(err), dot: dot, reply: time.Now()}
		if a.code == 0 && afterDot {
			a.result = unknown
		}
		return a
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fail(err, false, time.Time{})
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = chaosClientTimeout
	c.SubmissionTimeout = chaosClientTimeout
	defer c.Close()
	if err := c.Hello("load.remote.example"); err != nil {
		return fail(err, false, time.Time{})
	}
	if err := c.Mail(from, nil); err != nil {
		return fail(err, false, time.Time{})
	}
	if err := c.Rcpt(to, nil); err != nil {
		return fail(err, false, time.Time{})
	}
	w, err := c.Data()
	if err != nil {
		return fail(err, false, time.Time{})
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return fail(err, false, time.Time{})
	}
	dot := time.Now()
	if err := w.Close(); err != nil {
		return fail(err, true, dot)
	}
	_ = c.Quit()
	return attempt{result: accepted, code: 250, dot: dot, reply: time.Now()}
}

// load is the load generator: clients goroutines send messages "chaos
// 00000" ... paced over a duration, each retried (as an MTA would) after a
// refusal or an unknown outcome until it gets 250 or maxTries.
type load struct {
	edge    *atomic.Value // string: the edge's current SMTP address
	users   []string
	tr      *tracker
	n       int
	clients int
	every   time.Duration // pace: one new message per every

	sent      atomic.Int64 // messages that got their 250
	abandoned atomic.Int64 // messages that never got 250
}

const (
	loadMaxTries = 30
	loadBackoff  = 200 * time.Millisecond
)

func chaosSubject(i int) string { return fmt.Sprintf("chaos %05d", i) }

// run sends every message and returns when each got 250 or was abandoned.
func (l *load) run(stop <-chan struct{}) {
	seqs := make(chan int)
	go func() {
		defer close(seqs)
		tick := time.NewTicker(l.every)
		defer tick.Stop()
		for i := range l.n {
			select {
			case seqs <- i:
			case <-stop:
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range seqs {
				l.deliver(i, stop)
			}
		}()
	}
	wg.Wait()
}

// deliver sends message i until it is accepted or refused permanently.
func (l *load) deliver(i int, stop <-chan struct{}) {
	subject := chaosSubject(i)
	to := l.users[i%len(l.users)]
	msg := message("load@remote.example", to, subject, "body of "+subject)
	for try := range loadMaxTries {
		a := sendOnce(l.edge.Load().(string), "load@remote.example", to, msg)
		l.tr.add(subject, to, a)
		if a.result == accepted {
			l.sent.Add(1)
			return
		}
		if a.code >= 500 {
			break
		}
		select {
		case <-time.After(loadBackoff * time.Duration(min(try+1, 5))):
		case <-stop:
			l.abandoned.Add(1)
			return
		}
	}
	l.abandoned.Add(1)
}
