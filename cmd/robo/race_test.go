//go:build race

package main

// raceEnabled: the race detector makes each robo process several times
// slower, so the crash harness does fewer trials by default.
const raceEnabled = true
