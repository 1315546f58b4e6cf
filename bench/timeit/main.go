//go:build unix

// Command timeit runs a command and records its wall time, CPU time and peak
// resident memory, like /usr/bin/time -f '%e %U %S %M', but with nanosecond
// wall-clock resolution and without depending on the Debian "time" package.
//
//	timeit -o result.txt -- rsync -a --delete src/ dst/
//
// It writes one line to the -o file (default stderr):
//
//	wall_s=1.234567 user_s=0.120 sys_s=0.980 maxrss_kb=7324 exit=0
//
// The command's stdin, stdout and stderr are timeit's. timeit exits with the
// command's exit code. maxrss_kb is the kernel's ru_maxrss for the waited-for
// child: the peak of the largest single process in its tree (rsync, which
// forks, reports its biggest process, not their sum).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "append the result line to this file (default: stderr)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: timeit [-o FILE] -- COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code < 0 {
			code = 128 // killed by a signal
		}
	default:
		fmt.Fprintln(os.Stderr, "timeit:", err)
		os.Exit(127)
	}
	var user, sys time.Duration
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		user = time.Duration(ru.Utime.Nano())
		sys = time.Duration(ru.Stime.Nano())
		rss = int64(ru.Maxrss) // KiB on Linux
	}
	line := fmt.Sprintf("wall_s=%.6f user_s=%.3f sys_s=%.3f maxrss_kb=%d exit=%d\n",
		wall.Seconds(), user.Seconds(), sys.Seconds(), rss, code)
	w := os.Stderr
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "timeit:", err)
			os.Exit(127)
		}
		defer f.Close()
		w = f
	}
	fmt.Fprint(w, line)
	if code != 0 {
		w.Close()
		os.Exit(code)
	}
}
