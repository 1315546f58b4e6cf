package watch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestQueueCoalescesTriggersDuringARun(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 10)
	var runs atomic.Int32
	q := newQueue(context.Background(), 2, func(ctx context.Context, set, reason string) {
		runs.Add(1)
		started <- reason
		<-release
	})
	q.trigger("docs", "first")
	if r := <-started; r != "first" {
		t.Fatalf("first run reason %q", r)
	}
	for i := range 50 {
		q.trigger("docs", fmt.Sprint("during ", i))
	}
	release <- struct{}{}
	if r := <-started; r != "during 0" {
		t.Fatalf("second run reason %q, want the first coalesced trigger's", r)
	}
	release <- struct{}{}
	q.wait()
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs, want 2 (one, then one coalesced re-run)", n)
	}
}

func TestQueueMaxParallel(t *testing.T) {
	var mu sync.Mutex
	cur, peak := 0, 0
	perSet := map[string]int{}
	q := newQueue(context.Background(), 2, func(ctx context.Context, set, reason string) {
		mu.Lock()
		cur++
		perSet[set]++
		if perSet[set] > 1 {
			t.Errorf("set %s runs twice at once", set)
		}
		peak = max(peak, cur)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		cur--
		perSet[set]--
		mu.Unlock()
	})
	for round := range 3 {
		for i := range 6 {
			q.trigger(fmt.Sprint("set", i), fmt.Sprint(round))
		}
	}
	q.wait()
	if peak != 2 {
		t.Errorf("peak parallelism %d, want max_parallel = 2", peak)
	}
	q.setLimit(4)
	for i := range 8 {
		q.trigger(fmt.Sprint("set", i), "more")
	}
	q.wait()
	if peak > 4 {
		t.Errorf("peak %d above the new limit 4", peak)
	}
}

func TestQueueCloseDropsWaitingAndWaitsForRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	running := make(chan struct{})
	q := newQueue(ctx, 1, func(ctx context.Context, set, reason string) {
		ran.Add(1)
		if set == "a" {
			close(running)
			<-ctx.Done()
		}
	})
	q.trigger("a", "x")
	q.trigger("b", "x")
	<-running
	cancel()
	q.close()
	if n := ran.Load(); n != 1 {
		t.Fatalf("%d runs, want 1: the waiting run must be dropped", n)
	}
	q.trigger("c", "x") // ignored after close
	if n := ran.Load(); n != 1 {
		t.Fatal("a trigger after close ran")
	}
}
