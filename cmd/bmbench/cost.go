package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// counts is a snapshot of the request counters of a cloud-mode target.
type counts struct {
	blob  map[string]float64 // driver op -> calls, from /metrics
	redis map[string]float64 // command -> calls, from the driver's metrics
	info  map[string]float64 // command -> calls, from redis-server's INFO commandstats
}

// scrape reads the object-store calls and Redis commands the drivers
// counted, from the target's /metrics, and redis-server's own count.
func scrape(ctx context.Context, metricsURL string, rdb *goredis.Client) (counts, error) {
	c := counts{blob: map[string]float64{}, redis: map[string]float64{}, info: map[string]float64{}}
	err := metricLines(ctx, metricsURL, func(line string) {
		switch {
		case strings.HasPrefix(line, "bucketmail_storage_seconds_count{") && strings.Contains(line, `backend="s3"`):
			c.blob[label(line, "op")] += value(line)
		case strings.HasPrefix(line, "bucketmail_redis_commands_total{"):
			c.redis[label(line, "command")] += value(line)
		}
	})
	if err != nil {
		return c, err
	}
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return c, err
	}
	for _, line := range strings.Split(info, "\n") {
		// cmdstat_get:calls=12,usec=...
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		v, _ := strconv.ParseFloat(calls, 64)
		c.info[strings.TrimPrefix(name, "cmdstat_")] = v
	}
	return c, nil
}

func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func value(line string) float64 {
	f := strings.Fields(line)
	v, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return v
}

func diff(a, b map[string]float64) (map[string]float64, float64) {
	d := map[string]float64{}
	total := 0.0
	for k, v := range b {
		if x := v - a[k]; x != 0 {
			d[k] = x
			total += x
		}
	}
	return d, total
}

// requestCosts measures what one inbound message with one recipient and
// one mailbox sync cost in object-store requests and Redis commands.
func requestCosts(ctx context.Context, cfg *config, metricsURL, redisAddr string, messages int, res *results) error {
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	defer rdb.Close()
	cnt := newCounter(cfg)
	defer cnt.close()
	have, err := cnt.count("cost")
	if err != nil {
		return err
	}
	for run := range cfg.runs {
		// What the target does on its own, per second.
		c0, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			return err
		}
		time.Sleep(5 * time.Second)
		c1, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			return err
		}
		_, idleRedis := diff(c0.redis, c1.redis)
		res.add("cost", "idle", "Redis commands per second", "cmd/s", "lower", idleRedis/5)

		jobs := make([]smtpJob, messages)
		for i := range jobs {
			jobs[i] = smtpJob{rcpt: cfg.addr("cost"), subject: fmt.Sprintf("cost %d %d", run, i)}
		}
		c2, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			return err
		}
		if _, err := sendAll(ctx, cfg.smtp, 1, cfg.size, jobs, nil); err != nil {
			return err
		}
		have += messages
		if err := cnt.waitFor(map[string]int{"cost": have}, 5*time.Minute); err != nil {
			return err
		}
		c3, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			return err
		}
		blob, _ := diff(c2.blob, c3.blob)
		redisCmds, redisTotal := diff(c2.redis, c3.redis)
		infoCmds, infoTotal := diff(c2.info, c3.info)
		n := float64(messages)
		param := "inbound message, 1 recipient"
		res.add("cost", param, "object PUT", "requests", "lower", blob["put"]/n)
		res.add("cost", param, "object GET", "requests", "lower", blob["get"]/n)
		res.add("cost", param, "other object requests", "requests", "lower", (sum(blob)-blob["put"]-blob["get"])/n)
		res.add("cost", param, "Redis commands (driver)", "commands", "lower", redisTotal/n)
		res.add("cost", param, "Redis commands (server)", "commands", "lower", (infoTotal-infoCmds["info"])/n)
		slog.Info("cost per message", "target", cfg.target, "run", run+1, "blob", blob, "redis", redisCmds, "server", infoCmds)

		// A mailbox sync: log in, SELECT, UID FETCH 1:*.
		ic, err := dialIMAP(cfg.imap)
		if err != nil {
			return err
		}
		if err := ic.login(cfg.addr("cost"), cfg.password); err != nil {
			ic.Close()
			return err
		}
		c4, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			ic.Close()
			return err
		}
		_, err = ic.cmd("SELECT INBOX")
		if err == nil {
			_, err = ic.cmd("UID FETCH 1:* %s", syncItems)
		}
		ic.Close()
		if err != nil {
			return err
		}
		c5, err := scrape(ctx, metricsURL, rdb)
		if err != nil {
			return err
		}
		blob, _ = diff(c4.blob, c5.blob)
		redisCmds, redisTotal = diff(c4.redis, c5.redis)
		param = "mailbox sync"
		res.add("cost", param, "object reads", "requests", "lower", blob["get"]+blob["stat"])
		res.add("cost", param, "Redis commands (driver)", "commands", "lower", redisTotal)
		slog.Info("cost per sync", "target", cfg.target, "run", run+1, "blob", blob, "redis", redisCmds)
	}
	return nil
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
