package native

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/robo-backup/robo/internal/engine"
)

// explainFlags turns a bare "operation not permitted" on a destination
// entry (or its directory) that carries an immutable or append-only flag
// into an error that says so: robo reports such a file, it does not clear
// the flag an admin set (issue 16).
func (a *applier) explainFlags(c *engine.Change, err error) error {
	if a.ldst == nil || !errors.Is(err, syscall.EPERM) {
		return err
	}
	targets := []struct{ name, what string }{{c.Path, "the destination " + c.Kind.String()}}
	if c.Path != "" {
		targets = append(targets, struct{ name, what string }{parent(c.Path), "its destination directory"})
	}
	for _, p := range targets {
		if f := a.ldst.FileFlags(p.name); f != "" {
			letter := "i"
			if f == "append-only" {
				letter = "a"
			}
			why := fmt.Sprintf("%s is %s (chattr +%s): robo does not clear the flag; chattr -%s it to let robo update it", p.what, f, letter, letter)
			var pe *fs.PathError
			if errors.As(err, &pe) {
				// errText shows a path error's cause: the reason goes there.
				return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: fmt.Errorf("%w: %s", pe.Err, why)}
			}
			return fmt.Errorf("%w: %s", err, why)
		}
	}
	return err
}
