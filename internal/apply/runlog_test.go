package apply_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
)

// recorder counts events and remembers how the run finished.
type recorder struct {
	mu       sync.Mutex
	events   int
	finished *engine.Result
}

func (r *recorder) Report(engine.Event) {
	r.mu.Lock()
	r.events++
	r.mu.Unlock()
}

func (r *recorder) Finish(res *engine.Result, _ error) { r.finished = res }

func TestRunLogAndFinisher(t *testing.T) {
	cfg, _ := setup(t)
	st := state.New()
	p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	prog, logs := map[string]*recorder{}, map[string]*recorder{}
	var logged []engine.Job
	opts := apply.Options{Store: &state.Store{Path: cfg.Settings.StateFile}, Engines: engines{native.New()},
		Progress: func(set string) engine.Reporter { prog[set] = &recorder{}; return prog[set] },
		RunLog: func(set, engineName string, job engine.Job) (engine.Reporter, func(*engine.Result, error)) {
			if engineName != "native" {
				t.Errorf("engine %q", engineName)
			}
			r := &recorder{}
			logs[set], logged = r, append(logged, job)
			return r, r.Finish
		}}
	res, _, err := apply.Run(context.Background(), p, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	good := res.Sets[0]
	if good.Name != "good" || !good.OK() {
		t.Fatalf("set %+v", good)
	}
	// a, d, d/b: three changes, each reported to both reporters.
	if prog["good"].events != 3 || logs["good"].events != 3 {
		t.Errorf("progress saw %d events, run log %d; want 3 each", prog["good"].events, logs["good"].events)
	}
	if prog["good"].finished != good.Result || logs["good"].finished != good.Result {
		t.Error("Finish was not given the engine's result")
	}
	if len(logged) != 1 || logged[0].Spec.Name != "good" || logged[0].Changes.Len() != 3 {
		t.Errorf("run log jobs %+v", logged)
	}
	if _, ok := logs["refused"]; ok {
		t.Error("a refused set got a run log")
	}
}
