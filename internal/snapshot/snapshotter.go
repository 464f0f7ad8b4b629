package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/reconcile"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Defaults for the zero values of Config.
const (
	DefaultInterval = 30 * time.Second
	DefaultKeep     = 3
)

// LeaseName is the lease snapshotters share; checkpoints are named
// checkpointPrefix+<user id> and directoryCheckpoint.
const (
	LeaseName           = "snapshot"
	checkpointPrefix    = "snapshot/user/"
	directoryCheckpoint = "snapshot/directory"
)

// Store is what the snapshotter needs of the index store.
type Store interface {
	store.Directory
	store.Ledger
	store.Snapshots
}

// Config configures a Snapshotter. Store and Blobs are required.
type Config struct {
	Store Store
	Blobs blob.Store
	// Holder names this snapshotter in the lease; default host-pid.
	Holder string
	// Interval is the time between passes: a user is snapshotted at most
	// once per Interval, after changes. Default DefaultInterval.
	Interval time.Duration
	// Keep is how many snapshots of each user, and of the directory, are
	// kept. Default DefaultKeep.
	Keep int
	// LeaseTTL defaults to 3×Interval, at least 30 s.
	LeaseTTL time.Duration
	Log      *slog.Logger // default: discard
}

func (c Config) withDefaults() Config {
	if c.Holder == "" {
		host, _ := os.Hostname()
		c.Holder = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Keep <= 0 {
		c.Keep = DefaultKeep
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = max(3*c.Interval, 30*time.Second)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Large mailboxes are snapshotted less often: a snapshot holds a user's
// whole index, so one of 10,000 messages every Interval would cost about
// as much as the mail it protects. A user with paceStep messages or more
// waits one Interval per paceStep messages between snapshots, at most
// maxPace, counted from the time its checkpoint records (so also across a
// restart). Only flags and folders changed since are at stake: mail itself
// is recovered from the objects (invariant 2).
const (
	paceStep = 1000
	maxPace  = 30 * time.Minute
)

// Snapshotter writes index snapshots of changed users to the bucket.
type Snapshotter struct {
	cfg   Config
	log   *slog.Logger
	epoch *reconcile.Epoch
	now   func() time.Time
}

// mark is what a user's checkpoint holds: the change counter of the last
// snapshot and, for a large user, when it was taken and how many messages
// it held. Kept in the index store, the pacing holds across restarts and
// from one lease holder to the next.
type mark struct {
	seq      string
	at       time.Time
	messages int
}

// parseMark reads a checkpoint: "<seq>", or "<seq> <unix ns> <messages>".
func parseMark(v string) mark {
	f := strings.Fields(v)
	var m mark
	if len(f) > 0 {
		m.seq = f[0]
	}
	if len(f) == 3 {
		ns, err1 := strconv.ParseInt(f[1], 10, 64)
		n, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			m.at, m.messages = time.Unix(0, ns), n
		}
	}
	return m
}

func (m mark) String() string {
	if m.messages < paceStep {
		return m.seq
	}
	return fmt.Sprintf("%s %d %d", m.seq, m.at.UnixNano(), m.messages)
}

// waiting says whether a large user's last snapshot is too recent for
// another one. A time in the future (another holder's clock) does not
// hold a snapshot back.
func (s *Snapshotter) waiting(m mark) bool {
	if m.messages < paceStep {
		return false
	}
	age := s.now().Sub(m.at)
	return age >= 0 && age < s.spacing(m.messages)
}

// spacing is how long a user of n messages waits between snapshots.
func (s *Snapshotter) spacing(n int) time.Duration {
	return min(s.cfg.Interval*time.Duration(n/paceStep), maxPace)
}

// New returns a Snapshotter; nothing runs until Run or Once.
func New(cfg Config) *Snapshotter {
	cfg = cfg.withDefaults()
	return &Snapshotter{
		cfg:   cfg,
		log:   cfg.Log.With(slog.String("role", "snapshotter")),
		epoch: reconcile.NewEpoch(cfg.Store, cfg.Blobs, cfg.Holder),
		now:   time.Now,
	}
}

// Result says what one pass did.
type Result struct {
	Leased    bool // false: another holder has the lease; nothing was done
	Users     int  // user snapshots written
	Directory bool // a directory snapshot was written
	Deleted   int  // old snapshots deleted
}

// Run runs a pass every Interval until ctx ends and returns nil then;
// failures are logged and retried at the next pass.
func (s *Snapshotter) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		res, err := s.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		level := slog.LevelDebug
		attrs := []slog.Attr{slog.Bool("leased", res.Leased), slog.Int("users", res.Users),
			slog.Bool("directory", res.Directory), slog.Int("deleted", res.Deleted)}
		if err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(ctx, level, "snapshot pass", attrs...)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once snapshots, if it gets the lease and the index store still belongs
// to the bucket (else reconcile.ErrIndexLost), the directory if it changed and
// every user whose change counter moved since their last snapshot. One
// user's failure does not stop the others.
func (s *Snapshotter) Once(ctx context.Context) (Result, error) {
	var res Result
	ok, err := s.cfg.Store.TryLease(ctx, LeaseName, s.cfg.Holder, s.cfg.LeaseTTL)
	if err != nil || !ok {
		return res, err
	}
	res.Leased = true
	// A snapshot of an index that lost its data would become the newest.
	if err := s.epoch.Check(ctx); err != nil {
		return res, err
	}
	var errs []error
	if err := s.directory(ctx, &res); err != nil {
		errs = append(errs, err)
	}
	users, err := s.cfg.Store.Users(ctx)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("snapshot: users: %w", err))...)
	}
	for _, u := range users {
		if err := s.user(ctx, u.ID, &res); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// user writes a snapshot of userID if its change counter moved.
func (s *Snapshotter) user(ctx context.Context, userID string, res *Result) error {
	if err := blob.ValidKey(UserKey(userID, 0)); err != nil {
		return fmt.Errorf("snapshot: user %q: %w", userID, err)
	}
	seq, err := s.cfg.Store.ChangeSeq(ctx, userID)
	if err != nil {
		return fmt.Errorf("snapshot: user %s: %w", userID, err)
	}
	last, err := s.cfg.Store.Checkpoint(ctx, checkpointPrefix+userID)
	if err != nil {
		return fmt.Errorf("snapshot: user %s: %w", userID, err)
	}
	m := parseMark(last)
	if seq == 0 || m.seq == strconv.FormatUint(seq, 10) || s.waiting(m) {
		return nil
	}
	snap, err := s.cfg.Store.ExportUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("snapshot: export %s: %w", userID, err)
	}
	if err := put(ctx, s.cfg.Blobs, UserKey(userID, snap.ChangeSeq), "user", snap); err != nil {
		return err
	}
	res.Users++
	n := 0
	for _, mb := range snap.Mailboxes {
		n += len(mb.Messages)
	}
	m = mark{seq: strconv.FormatUint(snap.ChangeSeq, 10), at: s.now(), messages: n}
	if err := s.cfg.Store.SetCheckpoint(ctx, checkpointPrefix+userID, m.String()); err != nil {
		return fmt.Errorf("snapshot: user %s: %w", userID, err)
	}
	return s.prune(ctx, UserPrefix(userID), res)
}

// directory writes a directory snapshot if the directory changed since
// the last one, as told by a hash of its contents.
func (s *Snapshotter) directory(ctx context.Context, res *Result) error {
	snap, err := s.cfg.Store.ExportDirectory(ctx)
	if err != nil {
		return fmt.Errorf("snapshot: export directory: %w", err)
	}
	sum, err := contentHash(*snap)
	if err != nil {
		return err
	}
	last, err := s.cfg.Store.Checkpoint(ctx, directoryCheckpoint)
	if err != nil || last == sum {
		return err
	}
	if err := put(ctx, s.cfg.Blobs, DirectoryKey(snap.Taken.UnixNano()), "directory", snap); err != nil {
		return err
	}
	res.Directory = true
	if err := s.cfg.Store.SetCheckpoint(ctx, directoryCheckpoint, sum); err != nil {
		return fmt.Errorf("snapshot: directory: %w", err)
	}
	return s.prune(ctx, DirectoryDir, res)
}

// contentHash hashes a directory snapshot without its time.
func contentHash(snap store.DirectorySnapshot) (string, error) {
	snap.Taken = time.Time{}
	b, err := json.Marshal(snap) // maps are marshalled in key order
	if err != nil {
		return "", fmt.Errorf("snapshot: hash directory: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// prune deletes all but the newest Keep snapshots under prefix.
func (s *Snapshotter) prune(ctx context.Context, prefix string, res *Result) error {
	keys, err := listKeys(ctx, s.cfg.Blobs, prefix)
	if err != nil || len(keys) <= s.cfg.Keep {
		return err
	}
	var errs []error
	for _, k := range keys[:len(keys)-s.cfg.Keep] {
		if err := s.cfg.Blobs.Delete(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("snapshot: delete %s: %w", k, err))
			continue
		}
		res.Deleted++
	}
	return errors.Join(errs...)
}
