package edge

import (
	"context"
	"log/slog"
	"time"
)

// logTx writes the one log line of a transaction.
func (s *session) logTx(tx *transaction, out outcome) {
	s.mu.Lock()
	to := append([]string(nil), tx.rcpts...)
	rejected := tx.rejected
	s.mu.Unlock()
	code := 0
	if out.reply != nil {
		code = out.reply.Code
	} else if out.result == "queued" {
		code = c250OK
	}
	level := slog.LevelInfo
	if out.result == "storage" {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("queue_id", out.id),
		slog.String("listener", s.mode.String()),
		slog.String("client_ip", s.clientIP),
		slog.String("helo", tx.helo),
		slog.Bool("tls", s.tls != nil),
		slog.String("from", tx.from),
		slog.Any("to", to),
		slog.Int("rejected_rcpts", rejected),
		slog.Int64("size", out.size),
		slog.String("result", out.result),
		slog.Int("code", code),
		slog.Duration("duration", time.Since(tx.start)),
	}
	if tx.auth != "" {
		attrs = append(attrs, slog.String("auth", tx.auth))
	}
	if out.bareEOL > 0 {
		attrs = append(attrs, slog.Int64("bare_eol_fixed", out.bareEOL))
	}
	if out.err != nil {
		attrs = append(attrs, slog.String("error", out.err.Error()))
	}
	s.srv.cfg.Log.LogAttrs(context.Background(), level, "smtp transaction", attrs...)
}
