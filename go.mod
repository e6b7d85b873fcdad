module github.com/lbkit/lbkit

go 1.26

require go.uber.org/goleak v1.3.0
