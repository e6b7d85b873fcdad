// Package interop cross-checks lbkit's proxyproto against
// github.com/pires/go-proxyproto, the reference Go implementation: each
// parses what the other writes, and the benchmarks run both on the same
// inputs in the same process so their ratio is meaningful on a noisy
// machine.
//
// It is a separate module so that lbkit's own module does not depend on
// go-proxyproto. Run it with `cd proxyproto/interop && go test ./...`
// (`make test` does).
package interop
