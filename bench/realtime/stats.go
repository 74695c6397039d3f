package main

// Distributions of durations, as the report states them.

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// dist summarises durations: count, percentiles by nearest rank, maximum and mean (of those
// measured).
type dist struct {
	n                        int
	p50, p90, p99, max, mean time.Duration
}

// never stands for the latency of a message that was not delivered: a percentile that falls on
// one is "not delivered".
const never = time.Duration(math.MaxInt64)

func summarize(xs []time.Duration) dist { return summarizeMissing(xs, 0) }

// summarizeMissing summarises xs and missing more that never arrived, ranked after all of xs.
func summarizeMissing(xs []time.Duration, missing int) dist {
	if len(xs) == 0 {
		return dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	total := len(s) + missing
	rank := func(p float64) time.Duration {
		i := max(0, int(math.Ceil(p*float64(total)))-1)
		if i >= len(s) {
			return never
		}
		return s[i]
	}
	d := dist{n: len(s), p50: rank(0.50), p90: rank(0.90), p99: rank(0.99), max: s[len(s)-1], mean: sum / time.Duration(len(s))}
	if missing > 0 {
		d.max = never
	}
	return d
}

// ms is a duration in milliseconds, with two decimals.
func ms(d time.Duration) string {
	if d == never {
		return "not delivered"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// mb is kB as MiB, with one decimal, or "?" when unknown.
func mb(kb int64) string {
	if kb < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", float64(kb)/1024)
}
