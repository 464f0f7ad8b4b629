package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

var _ store.Limiter = (*DB)(nil)

// limitPruneOdds: one Hit in limitPruneOdds also deletes expired counters,
// which keeps the table small without a background job.
const limitPruneOdds = 64

// Hit implements store.Limiter. One row per (key, window) holds the count
// of window index idx; a hit in a later window starts it over.
func (db *DB) Hit(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	if n < 0 || window <= 0 || key == "" {
		return 0, fmt.Errorf("sqlite: limit hit: %w", store.ErrInvalid)
	}
	now := time.Now()
	idx, left := store.LimitWindow(now, window)
	expires := now.Add(left).UnixNano()
	var count int64
	err := db.write(ctx, "limit hit", func(tx *sql.Tx) error {
		// In an UPDATE's SET every column reference is the old value, so
		// count and idx below are the stored ones.
		err := tx.QueryRowContext(ctx, `INSERT INTO limits(key, window, idx, count, expires)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(key, window) DO UPDATE SET
				count = CASE WHEN idx = excluded.idx THEN count + excluded.count ELSE excluded.count END,
				idx = excluded.idx, expires = excluded.expires
			RETURNING count`, key, int64(window), idx, n, expires).Scan(&count)
		if err != nil {
			return err
		}
		if rand.IntN(limitPruneOdds) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM limits WHERE expires < ?`, now.UnixNano())
		}
		return err
	})
	return count, err
}

// Count implements store.Limiter.
func (db *DB) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 || key == "" {
		return 0, fmt.Errorf("sqlite: limit count: %w", store.ErrInvalid)
	}
	idx, _ := store.LimitWindow(time.Now(), window)
	var count int64
	err := db.read(ctx, "limit count", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT count FROM limits WHERE key = ? AND window = ? AND idx = ?`,
			key, int64(window), idx).Scan(&count)
		if errors.Is(err, sql.ErrNoRows) {
			count = 0
			return nil
		}
		return err
	})
	return count, err
}

// Release implements store.Limiter.
func (db *DB) Release(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	if n < 0 || window <= 0 || key == "" {
		return 0, fmt.Errorf("sqlite: limit release: %w", store.ErrInvalid)
	}
	idx, _ := store.LimitWindow(time.Now(), window)
	var count int64
	err := db.write(ctx, "limit release", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE limits SET count = MAX(count - ?, 0)
			WHERE key = ? AND window = ? AND idx = ? RETURNING count`,
			n, key, int64(window), idx).Scan(&count)
		if errors.Is(err, sql.ErrNoRows) {
			count = 0
			return nil
		}
		return err
	})
	return count, err
}

// markWindow is the window column of a mark: no counter has window 0
// (Hit refuses it), so marks share the limits table and its pruning.
const markWindow = 0

// Mark implements store.Limiter: a row whose expires is the mark's end.
func (db *DB) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 || key == "" {
		return fmt.Errorf("sqlite: mark: %w", store.ErrInvalid)
	}
	now := time.Now()
	return db.write(ctx, "mark", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO limits(key, window, idx, count, expires)
			VALUES (?, ?, 0, 1, ?)
			ON CONFLICT(key, window) DO UPDATE SET expires = excluded.expires`,
			key, markWindow, now.Add(ttl).UnixNano())
		if err != nil {
			return err
		}
		if rand.IntN(limitPruneOdds) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM limits WHERE expires < ?`, now.UnixNano())
		}
		return err
	})
}

// Marked implements store.Limiter.
func (db *DB) Marked(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("sqlite: marked: %w", store.ErrInvalid)
	}
	var marked bool
	err := db.read(ctx, "marked", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM limits
			WHERE key = ? AND window = ? AND expires > ?)`,
			key, markWindow, time.Now().UnixNano()).Scan(&marked)
	})
	return marked, err
}
