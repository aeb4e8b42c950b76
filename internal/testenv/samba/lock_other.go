//go:build !unix

package samba

import (
	"fmt"
	"time"
)

func lockMachine(string, time.Duration) (func(), error) {
	return nil, fmt.Errorf("%w: hack/samba.sh needs a Unix machine", ErrUnavailable)
}
