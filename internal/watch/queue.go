package watch

import (
	"context"
	"sync"
)

// queue runs sets: at most one run per set at a time, at most limit runs at
// once. A trigger for a set that is running sets a "run again" flag, so any
// number of triggers during a run cause exactly one more run; a trigger for
// a set already waiting is absorbed.
type queue struct {
	ctx  context.Context
	run  func(ctx context.Context, set, reason string)
	done func() // called after each run, outside the lock

	mu      sync.Mutex
	limit   int
	active  int
	pending []item
	queued  map[string]bool
	running map[string]bool
	again   map[string]string // set → reason of the coalesced re-run
	closed  bool
	idle    *sync.Cond
}

type item struct{ set, reason string }

func newQueue(ctx context.Context, limit int, run func(ctx context.Context, set, reason string)) *queue {
	q := &queue{ctx: ctx, run: run, limit: max(limit, 1), queued: map[string]bool{}, running: map[string]bool{}, again: map[string]string{}}
	q.idle = sync.NewCond(&q.mu)
	return q
}

// trigger asks for a run of set.
func (q *queue) trigger(set, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed || q.queued[set]:
	case q.running[set]:
		if _, ok := q.again[set]; !ok {
			q.again[set] = reason
		}
	default:
		q.queued[set] = true
		q.pending = append(q.pending, item{set, reason})
		q.dispatch()
	}
}

// setLimit changes max_parallel; running runs are not stopped.
func (q *queue) setLimit(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limit = max(n, 1)
	q.dispatch()
}

// dispatch starts waiting runs while slots are free. q.mu is held. Once
// the queue's context ended (robo watch is stopping) nothing new starts:
// the waiting runs are dropped by close.
func (q *queue) dispatch() {
	for !q.closed && q.ctx.Err() == nil && q.active < q.limit && len(q.pending) > 0 {
		it := q.pending[0]
		q.pending = q.pending[1:]
		delete(q.queued, it.set)
		q.running[it.set] = true
		q.active++
		go q.exec(it)
	}
}

func (q *queue) exec(it item) {
	q.run(q.ctx, it.set, it.reason)
	q.mu.Lock()
	q.active--
	delete(q.running, it.set)
	if reason, ok := q.again[it.set]; ok {
		delete(q.again, it.set)
		if !q.closed {
			q.queued[it.set] = true
			q.pending = append(q.pending, item{it.set, reason})
		}
	}
	q.dispatch()
	if q.active == 0 && (len(q.pending) == 0 || q.ctx.Err() != nil) {
		q.idle.Broadcast()
	}
	q.mu.Unlock()
	if q.done != nil {
		q.done()
	}
}

// isRunning reports whether set is running now.
func (q *queue) isRunning(set string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running[set]
}

// wait blocks until nothing runs or waits.
func (q *queue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active > 0 || (len(q.pending) > 0 && q.ctx.Err() == nil) {
		q.idle.Wait()
	}
}

// close drops waiting runs and waits for the running ones (which see their
// context end) to finish.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.pending = nil
	q.queued = map[string]bool{}
	q.again = map[string]string{}
	for q.active > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
}
