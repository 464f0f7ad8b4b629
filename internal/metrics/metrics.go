// Package metrics holds the Prometheus collectors every role reports to.
// One *Metrics is made in main and passed down; there is no global registry.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors of one process.
type Metrics struct {
	Registry *prometheus.Registry

	// SMTP transactions accepted (250 after DATA), by listener ("smtp", "submission").
	Accepted *prometheus.CounterVec
	// Messages or recipients refused, by reason ("unknown_user", "relay_denied",
	// "too_many_recipients", "too_big", "storage", "auth_required", ...).
	Rejected *prometheus.CounterVec
	// Deliveries made by workers, by result ("delivered", "duplicate", "retry", "dead").
	Deliveries *prometheus.CounterVec
	// Jobs per queue and state ("pending", "in_flight", "delayed", "dead"); set on scrape.
	QueueDepth *prometheus.GaugeVec
	// Open sessions by protocol ("smtp", "submission", "imap", "pop3").
	Sessions *prometheus.GaugeVec
	// Failed authentications by protocol.
	AuthFailures *prometheus.CounterVec
	// Latency of storage calls in seconds, by backend and operation: "blob"
	// and "store" are timed by the edge around its calls, "s3" by the S3
	// object-store driver around each of its calls (one per request made,
	// whoever calls), so its counts are the object requests of the process.
	StorageLatency *prometheus.HistogramVec
	// Redis commands sent by the redis store driver, by command name;
	// the commands of a pipeline or transaction count one by one.
	RedisCommands *prometheus.CounterVec
	// Object content bytes read from the blob store, by backend ("fs",
	// "s3"): what the driver took from the disk or the network, so a
	// ranged read counts its range, not the object.
	BlobReadBytes *prometheus.CounterVec
	// Messages whose text was written to the search index, and the bytes
	// of that text (its size in the index before the index's own
	// overhead).
	SearchIndexed      prometheus.Counter
	SearchIndexedBytes prometheus.Counter
	// Messages that a SEARCH BODY/TEXT had to read because the index had
	// no whole text for them: the index lag as searches see it.
	SearchUnindexed prometheus.Counter
	// Texts not in the search index yet: waiting in this process to be
	// written to the bucket's search segments (cloud), or staged in the
	// database and not yet moved into its index (embedded); and how long
	// the oldest of them has waited, in seconds: the index lag.
	SearchPending    prometheus.Gauge
	SearchPendingAge prometheus.Gauge
}

// New makes the collectors and registers them, with the Go and process
// collectors, on a new registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_messages_accepted_total",
			Help: "SMTP transactions answered 250 after DATA.",
		}, []string{"listener"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_messages_rejected_total",
			Help: "Messages or recipients refused, by reason.",
		}, []string{"reason"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_deliveries_total",
			Help: "Per-recipient delivery attempts by result.",
		}, []string{"result"}),
		QueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bucketmail_queue_jobs",
			Help: "Jobs per queue and state.",
		}, []string{"queue", "state"}),
		Sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bucketmail_sessions",
			Help: "Open client sessions by protocol.",
		}, []string{"protocol"}),
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_auth_failures_total",
			Help: "Failed authentications by protocol.",
		}, []string{"protocol"}),
		StorageLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bucketmail_storage_seconds",
			Help:    "Latency of storage calls.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"backend", "op"}),
		RedisCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_redis_commands_total",
			Help: "Redis commands sent by the store driver, by command.",
		}, []string{"command"}),
		BlobReadBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketmail_blob_read_bytes_total",
			Help: "Object content bytes read from the blob store, by backend.",
		}, []string{"backend"}),
		SearchIndexed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bucketmail_search_indexed_total",
			Help: "Messages whose text was written to the search index.",
		}),
		SearchIndexedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bucketmail_search_indexed_bytes_total",
			Help: "Bytes of message text written to the search index.",
		}),
		SearchUnindexed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bucketmail_search_unindexed_total",
			Help: "Messages a text search read because the index had no whole text for them.",
		}),
		SearchPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bucketmail_search_pending",
			Help: "Message texts not yet in the search index (searches still find them).",
		}),
		SearchPendingAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bucketmail_search_pending_age_seconds",
			Help: "How long the oldest text not yet in the search index has waited.",
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Accepted, m.Rejected, m.Deliveries, m.QueueDepth, m.Sessions,
		m.AuthFailures, m.StorageLatency, m.RedisCommands, m.BlobReadBytes,
		m.SearchIndexed, m.SearchIndexedBytes, m.SearchUnindexed, m.SearchPending, m.SearchPendingAge,
	)
	return m
}
