package memlimit

import (
	"runtime/debug"
	"sync"
)

// Base is the limit with nothing reserved.
const Base = 24 << 20

var (
	mu       sync.Mutex
	active   bool
	reserved int64
)

// Init sets the limit to Base unless lookup (os.LookupEnv) finds
// GOMEMLIMIT, in which case the user's limit stands and Reserve does
// nothing. It is called once, at start.
func Init(lookup func(string) (string, bool)) {
	mu.Lock()
	defer mu.Unlock()
	if _, set := lookup("GOMEMLIMIT"); set {
		active = false
		return
	}
	active = true
	apply()
}

// Reserve raises the limit by n bytes until release is called (more than
// once is harmless): for buffers a component holds by design. It does
// nothing when robo does not manage the limit, or for n ≤ 0.
func Reserve(n int64) (release func()) {
	if n <= 0 {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	if !active {
		return func() {}
	}
	reserved += n
	apply()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			reserved -= n
			if active {
				apply()
			}
		})
	}
}

// apply sets the runtime's limit; mu is held.
func apply() { debug.SetMemoryLimit(Base + reserved) }
