# lbkit — the commands CI runs (see .ci/run) and the README documents.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
TESTFLAGS   ?=

# Programs the tests use, as program:debian-package. Tests that need a
# missing one skip with a message naming it (or fail when LBKIT_REQUIRE_ALL=1).
SYSTEM_DEPS := haproxy:haproxy ip:iproute2 strace:strace

.PHONY: all deps test lint fuzz examples generate

all: lint test

## deps: install the system packages the tests need (root + apt only)
deps:
	@./tools/deps.sh $(SYSTEM_DEPS)

## test: the README's test command
test: deps
	$(GO) test -race -shuffle=on -count=1 -timeout 15m $(TESTFLAGS) ./...
	cd proxyproto/interop && $(GO) test -mod=mod -race -shuffle=on -count=1 -timeout 5m $(TESTFLAGS) ./...

## generate: generated code (DeepCopy of the TargetGroupBinding types in elb/kube)
DEEPCOPY_GEN ?= k8s.io/code-generator/cmd/deepcopy-gen@v0.37.2
generate:
	$(GO) run $(DEEPCOPY_GEN) --go-header-file tools/boilerplate.go.txt --output-file zz_generated.deepcopy.go ./elb/kube

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@./tools/fuzz.sh $(FUZZTIME)

## examples: build every program under examples/
examples:
	@if [ -d examples ]; then $(GO) build -o /dev/null ./examples/...; else echo "no examples yet"; fi
