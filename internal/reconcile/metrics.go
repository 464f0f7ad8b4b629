package reconcile

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bucketmail/bucketmail/internal/metrics"
)

// counter counts what reconcilers did, by result ("enqueued", "deleted"),
// on the process's registry.
type counter struct{ vec *prometheus.CounterVec }

func newCounter(m *metrics.Metrics) *counter {
	if m == nil {
		return &counter{}
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bucketmail_reconciler_objects_total",
		Help: "Message objects whose job the reconciler re-enqueued, or that the collector deleted.",
	}, []string{"result"})
	if err := m.Registry.Register(vec); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return &counter{}
		}
		vec = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return &counter{vec: vec}
}

func (c *counter) inc(result string) {
	if c.vec != nil {
		c.vec.WithLabelValues(result).Inc()
	}
}
