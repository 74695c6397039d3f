package guard

import (
	"net/http"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// Rate limits the requests of each token with a token bucket (DESIGN §7: HTTP 429, Retry-After,
// RATE_LIMITED). Buckets live in a bounded cache: a bucket left alone long enough to refill is
// forgotten, which changes nothing, and when more tokens are active than the cache holds, the
// least used lose theirs (and start again with a full bucket).
type Rate struct {
	limit   rate.Limit
	burst   int
	buckets *otter.Cache[string, *rate.Limiter]
}

// maxBuckets bounds the memory of the rate limiter (about 150 bytes a bucket).
const maxBuckets = 100_000

// NewRate limits each token to perSecond requests a second, in bursts of up to burst. A
// perSecond of 0 or less is no limit (nil).
func NewRate(perSecond float64, burst int) *Rate {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	// A bucket idle for this long is full again: forgetting it changes nothing.
	refill := time.Duration(float64(burst)/perSecond*float64(time.Second)) + time.Second
	return &Rate{
		limit: rate.Limit(perSecond),
		burst: burst,
		buckets: otter.Must(&otter.Options[string, *rate.Limiter]{
			MaximumSize:      maxBuckets,
			ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](refill),
		}),
	}
}

// Middleware refuses a request whose token has no request left in its bucket. key names the
// request's token; a request without one ("") is not limited here (it is refused by
// authentication, at no cost to the database). Put it after authentication, so that only tokens
// that exist get a bucket.
func (rl *Rate) Middleware(key func(*http.Request) string, render Render, next http.Handler) http.Handler {
	if rl == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := key(r); k != "" {
			if wait := rl.take(k); wait > 0 {
				render.Refuse(w, r, Refusal{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Limit: "rate",
					Message: "too many requests for this token; retry after the time Retry-After gives", RetryAfter: wait})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// take takes a request from the token's bucket, or says how long until one is there.
func (rl *Rate) take(key string) time.Duration {
	b, _ := rl.buckets.GetIfPresent(key)
	if b == nil {
		b, _ = rl.buckets.SetIfAbsent(key, rate.NewLimiter(rl.limit, rl.burst))
	}
	now := time.Now()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}
