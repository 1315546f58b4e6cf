package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
)

// watchedSet is a set with watch = true.
type watchedSet struct {
	name     string
	root     string // absolute, cleaned source directory
	debounce time.Duration
	rescan   time.Duration

	debounceT  Timer
	burstStart time.Duration // Mono of the first event of the current burst
	rescanT    Timer
}

// sources watches the source trees of the sets with watch = true through
// one fsnotify watcher: every directory is added (fsnotify is not
// recursive), new directories as they appear, until the watch budget is
// spent. An event restarts the set's debounce timer; when changes settle the
// set is triggered. Each set is also triggered every rescan interval,
// because notifications miss changes on network file systems and overflow
// on big trees.
type sources struct {
	log     hclog.Logger
	clock   Clock
	trigger func(set, reason string)
	budget  int // most watches to add; 0 means no limit
	warn    func(string)

	w    *fsnotify.Watcher
	mu   sync.Mutex
	sets []*watchedSet
	dirs map[string]bool
	// full is set once the budget is spent; later directories rely on
	// rescans.
	full    bool
	stopped bool
	done    chan struct{}
}

// maxDebounceBursts bounds how long a stream of changes that never settles
// delays a run: at most this many debounce intervals after its first event.
const maxDebounceBursts = 10

func newSources(log hclog.Logger, clock Clock, sets []*watchedSet, budget int, trigger func(set, reason string), warn func(string)) (*sources, error) {
	w, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return nil, err
	}
	s := &sources{log: log, clock: clock, trigger: trigger, budget: budget, warn: warn, w: w, sets: sets, dirs: map[string]bool{}, done: make(chan struct{})}
	go s.loop()
	for _, ws := range sets {
		s.addTree(ws.root)
		s.mu.Lock()
		s.armRescan(ws)
		s.mu.Unlock()
	}
	return s, nil
}

// count returns the number of watched directories.
func (s *sources) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dirs)
}

// addTree watches dir and every directory below it, within the budget.
func (s *sources) addTree(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir {
				s.log.Debug("cannot read directory for watching", "path", path, "error", err)
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if !s.add(path) {
			return filepath.SkipAll
		}
		return nil
	})
}

// add watches one directory; it returns false once the budget is spent.
func (s *sources) add(dir string) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	if s.dirs[dir] {
		s.mu.Unlock()
		return true
	}
	if s.budget > 0 && len(s.dirs) >= s.budget {
		first := !s.full
		s.full = true
		n := len(s.dirs)
		s.mu.Unlock()
		if first {
			s.warn("source watching stopped at " + strconv.Itoa(n) + " directories, the watch budget below the system limit (fs.inotify.max_user_watches); changes in the directories left out are found by the periodic rescan only. Raise the limit (sysctl fs.inotify.max_user_watches) or exclude large trees to watch everything")
		}
		return false
	}
	s.dirs[dir] = true
	s.mu.Unlock()
	if err := s.w.Add(dir); err != nil {
		s.mu.Lock()
		delete(s.dirs, dir)
		s.mu.Unlock()
		if errors.Is(err, syscall.ENOSPC) {
			s.mu.Lock()
			first := !s.full
			s.full = true
			s.mu.Unlock()
			if first {
				s.warn("the system limit of watches (fs.inotify.max_user_watches) is reached; changes in the directories left out are found by the periodic rescan only")
			}
			return false
		}
		s.log.Debug("cannot watch directory", "path", dir, "error", err)
	}
	return true
}

// forget drops dir and everything below it from the count (the kernel
// removes the watches of deleted directories itself).
func (s *sources) forget(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirs[dir] {
		return
	}
	prefix := dir + string(filepath.Separator)
	for d := range s.dirs {
		if d == dir || strings.HasPrefix(d, prefix) {
			delete(s.dirs, d)
			s.w.Remove(d)
		}
	}
}

func (s *sources) loop() {
	defer close(s.done)
	for {
		select {
		case ev, ok := <-s.w.Events:
			if !ok {
				return
			}
			s.event(ev)
		case err, ok := <-s.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				s.log.Warn("too many file changes at once: the event queue overflowed; rescanning every watched set")
				for _, ws := range s.sets {
					s.changed(ws)
				}
				continue
			}
			s.log.Warn("source watching", "error", err)
		}
	}
}

func (s *sources) event(ev fsnotify.Event) {
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			s.addTree(ev.Name)
		}
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		s.forget(ev.Name)
	}
	for _, ws := range s.sets {
		if within(ev.Name, ws.root) {
			s.changed(ws)
		}
	}
}

// changed restarts the debounce timer of ws.
func (s *sources) changed(ws *watchedSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	now := s.clock.Mono()
	if ws.debounceT != nil {
		if now-ws.burstStart >= maxDebounceBursts*ws.debounce {
			return // a change stream that never settles: let the timer fire
		}
		ws.debounceT.Stop()
	} else {
		ws.burstStart = now
	}
	ws.debounceT = s.clock.AfterFunc(ws.debounce, func() {
		s.mu.Lock()
		ws.debounceT = nil
		stopped := s.stopped
		s.mu.Unlock()
		if !stopped {
			s.trigger(ws.name, "source changed")
		}
	})
}

func (s *sources) armRescan(ws *watchedSet) {
	if ws.rescan <= 0 {
		return
	}
	ws.rescanT = s.clock.AfterFunc(ws.rescan, func() {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return
		}
		s.trigger(ws.name, "rescan")
		s.mu.Lock()
		if !s.stopped {
			s.armRescan(ws)
		}
		s.mu.Unlock()
	})
}

// close stops watching and every timer.
func (s *sources) close() {
	s.mu.Lock()
	s.stopped = true
	for _, ws := range s.sets {
		if ws.debounceT != nil {
			ws.debounceT.Stop()
		}
		if ws.rescanT != nil {
			ws.rescanT.Stop()
		}
	}
	s.mu.Unlock()
	s.w.Close()
	<-s.done
}

// within reports whether path is root or below it.
func within(path, root string) bool {
	if path == root {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return strings.HasPrefix(strings.ToLower(path), strings.ToLower(root))
	}
	return strings.HasPrefix(path, root)
}

// watchBudget is how many directories robo watches at most: on Linux a
// margin below fs.inotify.max_user_watches (shared by every program of the
// user), elsewhere a fixed bound (kqueue holds a descriptor per watched
// entry).
func watchBudget() int {
	if runtime.GOOS != "linux" {
		return 4096
	}
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
	if err != nil {
		return 8192
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || limit <= 0 {
		return 8192
	}
	return max(limit-max(limit/4, 1024), limit/2)
}

// sortedNames returns the names of the watched sets.
func sortedNames(sets []*watchedSet) []string {
	out := make([]string, len(sets))
	for i, ws := range sets {
		out[i] = ws.name
	}
	sort.Strings(out)
	return out
}
