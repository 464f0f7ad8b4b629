package redis

import (
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
	"github.com/bucketmail/bucketmail/internal/testenv/servers"
)

func TestLimits(t *testing.T) {
	srv := servers.Redis(t)
	storetest.RunLimits(t, func(t *testing.T) store.Limiter { return openURL(t, srv.URL(), true) })
}

func TestLimitsCluster(t *testing.T) {
	url := startCluster(t)
	storetest.RunLimits(t, func(t *testing.T) store.Limiter { return openURL(t, url, true) })
}
