package robocopy

import "path/filepath"

// samplesDir holds the real robocopy logs described in
// shared/robocopy/samples/SOURCES.md, beside the repository. Tests that use
// them skip when it is absent.
var samplesDir = filepath.Join("..", "..", "..", "shared", "robocopy", "samples")
