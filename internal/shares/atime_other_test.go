//go:build !linux

package shares_test

import (
	"io/fs"
	"time"
)

func atime(fs.FileInfo) (time.Time, bool) { return time.Time{}, false }
