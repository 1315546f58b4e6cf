package schema

import "runtime"

var hostGOOS = runtime.GOOS
