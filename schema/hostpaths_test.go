package schema

import "runtime"

// testOptions resolves paths for Linux whatever the host, so the fixtures'
// Unix paths (/srv/x, /mnt/backup) are valid everywhere. The helpers below
// are for tests that check how paths resolve on the host itself, which on
// Windows means drive letters and backslashes.

// hostOptions is testOptions for the host's OS.
func hostOptions() Options {
	o := testOptions()
	o.GOOS = runtime.GOOS
	return o
}

// hostAbs turns a slash path such as /etc/robo into an absolute path as a
// configuration on the host would write it: C:/etc/robo on Windows, the
// path itself elsewhere.
func hostAbs(p string) string {
	if runtime.GOOS == "windows" {
		return "C:" + p
	}
	return p
}
