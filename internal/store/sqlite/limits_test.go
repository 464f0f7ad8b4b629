package sqlite

import (
	"testing"

	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/storetest"
)

func TestLimits(t *testing.T) {
	storetest.RunLimits(t, func(t *testing.T) store.Limiter { return openTemp(t) })
}
