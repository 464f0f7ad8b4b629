// Package growthtest checks that the cost of a parser grows linearly with
// its input (invariant 9 of the design: bounded work per input). A test
// gives a function and input shapes; Linear measures the CPU time of the
// function on inputs of n and 8n bytes and fails when the larger costs
// more than Limit times the smaller. A linear parser costs about 8 times
// more, a quadratic one 64 times.
//
// The race detector distorts the ratio, so under it Linear skips; `make
// test` runs the growth tests a second time, without it.
//
// CPU time of the process is measured, not wall time, so that other
// processes on a loaded machine do not count; each size is measured
// several times, alternately, and the least is kept.
package growthtest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Limit is the cost ratio between inputs of 8n and n bytes above which the
// growth is taken as superlinear: 8 for a linear cost, with room for
// noise and caches, well below the 64 of a quadratic one.
const Limit = 20

const (
	rounds  = 4                    // measurements of each size
	minWork = 8 * time.Millisecond // CPU time of one measurement of the small input
	maxReps = 1 << 14              // repetitions of the small input, at most
	retries = 3                    // a ratio over Limit is measured again this often
)

// Shape makes an input of about n bytes.
type Shape struct {
	Name string
	Make func(n int) []byte
	N    int // the size it is measured at
}

// Linear runs run on shape's inputs of shape.N and 8*shape.N bytes and
// fails t when the cost per byte grows by more than Limit/8.
func Linear(t *testing.T, shape Shape, run func(input []byte)) {
	t.Helper()
	if raceDetector {
		// The race detector's cost per byte is not the same at n and 8n
		// (its shadow memory, its slower allocations): the ratio would
		// measure it, not run. `make test` runs the growth tests again
		// without it (the Makefile's test target).
		t.Skip("growth is measured without -race (make test runs these tests again without it)")
	}
	small, big := shape.Make(shape.N), shape.Make(8*shape.N)
	reps := calibrate(small, run)
	var ratio float64
	for range retries {
		cs, cb := measure(small, big, reps, run)
		ratio = float64(cb) / float64(cs)
		t.Logf("%s: %d bytes %v, %d bytes %v: ratio %.1f", shape.Name, len(small), cs, len(big), cb, ratio)
		if ratio <= Limit {
			return
		}
	}
	t.Errorf("%s: cost grows superlinearly: %d bytes cost %.1f times %d bytes (limit %d)",
		shape.Name, len(big), ratio, len(small), Limit)
}

// calibrate returns how many runs of input make about minWork of CPU time.
func calibrate(input []byte, run func([]byte)) int {
	run(input) // warm up
	reps := 1
	for reps < maxReps {
		if cost(input, reps, run) >= minWork {
			break
		}
		reps *= 2
	}
	return reps
}

// measure returns the least CPU time of one run of small and of big.
func measure(small, big []byte, reps int, run func([]byte)) (time.Duration, time.Duration) {
	bigReps := max(1, reps/8)
	cs, cb := time.Duration(1<<62), time.Duration(1<<62)
	for range rounds {
		cs = min(cs, cost(small, reps, run)/time.Duration(reps))
		cb = min(cb, cost(big, bigReps, run)/time.Duration(bigReps))
	}
	return max(cs, 1), cb
}

// cost is the CPU time of the process while run runs reps times on input.
// A collection first, so that garbage left by what ran before (the other
// size, other tests) is not collected, and counted, during this one.
func cost(input []byte, reps int, run func([]byte)) time.Duration {
	runtime.GC()
	start := cpuTime()
	for range reps {
		run(input)
	}
	return cpuTime() - start
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic("growthtest: getrusage: " + err.Error())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
