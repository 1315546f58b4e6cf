package robocopy_test

import (
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/robocopy"
)

// TestConformance runs the engine suite against the real robocopy.exe. It
// runs on Windows only (the Windows CI workflow); elsewhere there is no
// robocopy.exe, and a fake one would test nothing.
func TestConformance(t *testing.T) {
	e, err := robocopy.New()
	if err != nil {
		t.Skipf("robocopy.exe: %v", err)
	}
	enginetest.Run(t, func(t *testing.T) engine.Engine { return e })
}
