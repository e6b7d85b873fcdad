module github.com/lbkit/lbkit/proxyproto/interop

go 1.26.0

require (
	github.com/lbkit/lbkit v0.0.0
	github.com/pires/go-proxyproto v0.15.0
	go.uber.org/goleak v1.3.0
)

replace github.com/lbkit/lbkit => ../..
