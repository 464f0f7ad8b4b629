package redis

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// CountCommands makes the client count every command it sends in c, by
// lower-case command name (label "command"): the cost figures of
// docs/benchmarks.md come from it.
func (db *DB) CountCommands(c *prometheus.CounterVec) {
	db.rdb.AddHook(commandCounter{c})
}

type commandCounter struct{ c *prometheus.CounterVec }

func (commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.c.WithLabelValues(strings.ToLower(cmd.Name())).Inc()
		return next(ctx, cmd)
	}
}

func (h commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			h.c.WithLabelValues(strings.ToLower(cmd.Name())).Inc()
		}
		return next(ctx, cmds)
	}
}
