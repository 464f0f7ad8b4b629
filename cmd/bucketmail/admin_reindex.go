package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/snapshot"
	"github.com/bucketmail/bucketmail/internal/store"
)

const reindexSynopsis = "bucketmail reindex [--search] --user ADDRESS | --all [FLAGS]"

// cmdReindex rebuilds the index from the blob store after the index store
// lost data: the newest snapshots, then every message object missing from
// them, delivered again by the workers.
func (a *app) cmdReindex(ctx context.Context, args []string) error {
	var user string
	var all, text bool
	c, err := a.openAdmin("reindex", reindexSynopsis, args, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "rebuild the index of the user with this `address`")
		fs.BoolVar(&all, "all", false, "rebuild the index of every user")
		fs.BoolVar(&text, "search", false, "rebuild only the search index: every message without text in it gets its text, read from its object (progress on stderr)")
	})
	if err != nil {
		return err
	}
	if err := c.wantArgs(0, 0, "no arguments"); err != nil {
		return c.done(err)
	}
	if (user == "") == !all {
		return c.done(usagef("want exactly one of --user ADDRESS and --all"))
	}
	if user != "" {
		if user, err = validAddress(user); err != nil {
			return c.done(err)
		}
	}
	if text {
		return c.done(a.reindexSearch(ctx, c.store, c.blobs, user))
	}
	// Active Sieve scripts first, so that the messages re-enqueued below
	// are filtered as they were the first time.
	scripts, err := (&sievestore.Scripts{Blobs: c.blobs, Store: c.store}).RestoreAll(ctx)
	if err != nil {
		return c.done(err)
	}
	fmt.Fprintf(a.stdout, "active sieve scripts restored: %d\n", scripts)
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := snapshot.Reindex(ctx, c.store, c.blobs, user, log)
	if user != "" && errors.Is(err, store.ErrNotFound) && rep.Users == 0 {
		return c.done(userErr(user, err)) // not in the directory, nor in its snapshot
	}
	printReindex(a, rep)
	return c.done(err)
}

func printReindex(a *app, rep snapshot.Report) {
	dir := rep.Directory
	if dir == "" {
		dir = "none found"
	}
	fmt.Fprintf(a.stdout, "directory snapshot: %s\n", dir)
	fmt.Fprintf(a.stdout, "users reindexed: %d (%d from snapshots, %d without one)\n",
		rep.Users, rep.UsersFromSnapshot, rep.Users-rep.UsersFromSnapshot)
	fmt.Fprintf(a.stdout, "messages restored from snapshots: %d in %d mailboxes\n", rep.Messages, rep.Mailboxes)
	fmt.Fprintf(a.stdout, "message objects scanned: %d (%d already indexed, %d not for these users or unreadable)\n",
		rep.Objects, rep.InIndex, rep.Skipped)
	fmt.Fprintf(a.stdout, "messages put back from IMAP APPEND objects: %d\n", rep.Appended)
	fmt.Fprintf(a.stdout, "jobs re-enqueued for delivery: %d (a running worker delivers them)\n", rep.Enqueued)
}
