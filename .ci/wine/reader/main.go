// Command reader reads a file every 10 ms until a stop file appears, as a
// monitoring script, robo status in a loop or a virus scanner would: with
// os.ReadFile, which on Windows does not allow the file to be renamed over
// while it is open. .ci/wine/run runs it beside 30 applies to check that
// the state write survives it (issue 14, bug 1).
//
//	reader FILE STOPFILE
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	reads := 0
	for {
		if _, err := os.Stat(os.Args[2]); err == nil {
			break
		}
		if _, err := os.ReadFile(os.Args[1]); err == nil {
			reads++
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("reader: %d reads of %s\n", reads, os.Args[1])
}
