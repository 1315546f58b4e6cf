package fleet

import "runtime"

const isWindows = runtime.GOOS == "windows"
