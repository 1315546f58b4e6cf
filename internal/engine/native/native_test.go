package native_test

import (
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/engine/native"
)

func TestConformance(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) engine.Engine {
		e := native.New()
		e.Sleep = func(time.Duration) {}
		return e
	})
}
