//go:build race

package balancer_test

// raceEnabled skips the heaviest table-building tests under -race, where
// they take ten times longer and check nothing about concurrency.
const raceEnabled = true
