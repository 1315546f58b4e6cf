package enginetest

import (
	"errors"

	"github.com/robo-backup/robo/internal/engine"
)

func asSourceError(err error, target **engine.SourceError) bool { return errors.As(err, target) }
