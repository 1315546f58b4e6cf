package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// handleSignals cancels a command's context on the first SIGINT, SIGTERM or
// SIGHUP: robo finishes the files in progress, records what finished in the
// state and releases its locks (docs/cli.md, "General rules"). The returned
// func stops listening.
//
// After the first signal a second SIGINT or SIGTERM ends robo at once.
// SIGHUP is different: a dropped ssh session often delivers it twice (the
// kernel's hangup to the foreground job, then the shell's to all its jobs),
// so further SIGHUPs are ignored, and so is SIGPIPE: the terminal or the
// pipe robo writes to is gone, and a write to it must fail with an error
// (which robo ignores for progress) rather than kill robo before it has
// recorded the state.
func handleSignals(e *env, ctx context.Context, cancel context.CancelFunc) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
				// Stop notifying the others: a second one ends robo at once.
				signal.Stop(sigs)
				fmt.Fprintln(e.stderr, "robo: hangup: finishing the files in progress and recording the state")
			} else {
				signal.Stop(sigs)
				fmt.Fprintln(e.stderr, "robo: interrupted: finishing the files in progress and recording the state; interrupt again to stop at once")
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return func() {
		signal.Stop(sigs)
		cancel()
		<-done
	}
}
