package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
)

// configCodes are S3 errors about the account or the bucket rather than
// the request: an operator fixes them (creates the bucket, renews a key,
// sets the clock) and the same request then succeeds. They are temporary,
// although 4xx, so that mail waits in queues instead of bouncing.
var configCodes = map[string]bool{
	"NoSuchBucket":                 true,
	"AccessDenied":                 true,
	"AllAccessDisabled":            true,
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"ExpiredToken":                 true,
	"InvalidToken":                 true,
	"TokenRefreshRequired":         true,
	"RequestTimeTooSkewed":         true,
	"AuthorizationHeaderMalformed": true, // wrong region
	"PermanentRedirect":            true, // wrong endpoint for the bucket's region
	"AccountProblem":               true,
}

// slowCodes ask the client to back off; some servers send them with 503,
// others with 4xx.
var slowCodes = map[string]bool{
	"SlowDown":             true,
	"SlowDownRead":         true,
	"SlowDownWrite":        true,
	"Throttling":           true,
	"ThrottlingException":  true,
	"RequestLimitExceeded": true,
	"RequestThrottled":     true,
	"RequestTimeout":       true,
	"InternalError":        true,
	"ServiceUnavailable":   true,
}

// classify turns a minio-go error into ours: NoSuchKey wraps
// blob.ErrNotFound; other 4xx answers are permanent (but see configCodes,
// and 408, 429); 5xx, throttling, network errors and anything unknown are
// temporary.
func classify(err error, op, key string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("blob/s3: %s %q: %w", op, key, err)
	}
	var r minio.ErrorResponse
	if !errors.As(err, &r) {
		return fmt.Errorf("blob/s3: %s %q: %w", op, key, err) // network: temporary
	}
	switch {
	case r.Code == "NoSuchKey" || r.Code == "NotFound" && r.StatusCode == http.StatusNotFound:
		return fault.Permanent(fmt.Errorf("blob/s3: %s %q: %w", op, key, blob.ErrNotFound))
	case configCodes[r.Code], slowCodes[r.Code]:
		return fmt.Errorf("blob/s3: %s %q: %w", op, key, err)
	case r.StatusCode == http.StatusRequestTimeout, r.StatusCode == http.StatusTooManyRequests,
		r.StatusCode == http.StatusUnauthorized, r.StatusCode == http.StatusForbidden:
		return fmt.Errorf("blob/s3: %s %q: %w", op, key, err)
	case r.StatusCode >= 400 && r.StatusCode < 500:
		return fault.Permanent(fmt.Errorf("blob/s3: %s %q: %w", op, key, err))
	default: // 5xx, or an answer without a status
		return fmt.Errorf("blob/s3: %s %q: %w", op, key, err)
	}
}

// isCode reports whether err is the S3 error code.
func isCode(err error, code string) bool {
	var r minio.ErrorResponse
	return errors.As(err, &r) && r.Code == code
}
