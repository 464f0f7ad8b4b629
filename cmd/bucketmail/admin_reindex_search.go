package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

// reindexSearch gives the messages of user (every user if "") that have
// no text in the search index their text, read from their objects, with
// a line of progress per user and every 1,000 messages on stderr.
func (a *app) reindexSearch(ctx context.Context, st store.Store, blobs blob.Store, user string) error {
	var users []store.User
	if user != "" {
		u, err := st.UserByAddress(ctx, user)
		if err != nil {
			return userErr(user, err)
		}
		users = []store.User{u}
	} else {
		var err error
		if users, err = st.Users(ctx); err != nil {
			return err
		}
	}
	var errs []error
	total := 0
	for i, u := range users {
		n, err := search.Rebuild(ctx, st, blobs, u.ID, func(done, of int) {
			if done%1000 == 0 {
				fmt.Fprintf(a.stderr, "search: %s: %d of %d messages\n", u.Address, done, of)
			}
		})
		total += n
		fmt.Fprintf(a.stderr, "search: user %d of %d: %s: %d messages indexed\n", i+1, len(users), u.Address, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.Address, err))
		}
	}
	fmt.Fprintf(a.stdout, "search texts written: %d for %d users\n", total, len(users))
	return errors.Join(errs...)
}
