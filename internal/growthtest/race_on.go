//go:build race

package growthtest

// raceDetector is true in a build with the race detector, whose
// instrumentation does not cost the same per byte at every size.
const raceDetector = true
