//go:build !linux

package lb

import (
	"errors"
	"syscall"
)

var errTooManyFiles = errors.New("lb: too many open files")

// transparentControl refuses: client IP preservation needs Linux's
// IP_TRANSPARENT.
func transparentControl(network, address string, rc syscall.RawConn) error {
	return errors.New("lb: client IP preservation (IP_TRANSPARENT) needs Linux")
}
