package redis

import (
	"context"
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

// openURL opens url, empties its database and closes it at the end of t.
func openURL(t testing.TB, url string, flush bool) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if flush {
		if err := db.Client().FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestConformance(t *testing.T) {
	srv := servers.Redis(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openURL(t, srv.URL(), true) })
}

func TestConformanceShared(t *testing.T) {
	srv := servers.Redis(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		return openURL(t, srv.URL(), true), openURL(t, srv.URL(), false)
	})
}

// TestConformanceCluster runs the suite against a Redis Cluster (one node
// holding every slot): a Cluster refuses any command or script whose keys
// are in different slots, so this proves that no operation crosses slots.
func TestConformanceCluster(t *testing.T) {
	url := startCluster(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db := openURL(t, url, true)
		if !db.cluster {
			t.Fatalf("%s opened a %T, want a cluster client", url, db.Client())
		}
		return db
	})
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		return openURL(t, url, true), openURL(t, url, false)
	})
}
