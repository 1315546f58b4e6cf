package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Event kinds: the outcome classes a notify block's on list names, and
// "test" for robo notify test.
const (
	KindFailure = schema.NotifyFailure
	KindSuccess = schema.NotifySuccess
	KindStale   = schema.NotifyStale
	KindTest    = "test"
)

// Event is one thing to report. Its JSON form is the webhook body
// (docs/monitoring.md documents it).
type Event struct {
	// Kind is "failure", "success", "stale" or "test".
	Kind string `json:"event"`
	// Set is the backup set ("" for a test).
	Set string `json:"set,omitempty"`
	// Outcome is the set's outcome: success, partial, failed, refused or
	// interrupted; "stale" or "test" for those kinds.
	Outcome string    `json:"outcome"`
	Message string    `json:"message,omitempty"`
	Host    string    `json:"host"`
	Time    time.Time `json:"time"`
	// Counts are present when the engine ran.
	Counts *Counts `json:"counts,omitempty"`
	// LastSuccess is the end of the set's last successful run, for a
	// stale event (absent when it never succeeded).
	LastSuccess *time.Time `json:"last_success,omitempty"`
	RoboVersion string     `json:"robo_version,omitempty"`
}

// Counts are what the engine did.
type Counts struct {
	FilesCopied  int64         `json:"files_copied"`
	BytesCopied  int64         `json:"bytes_copied"`
	FilesDeleted int64         `json:"files_deleted"`
	DirsDeleted  int64         `json:"dirs_deleted"`
	Errors       int64         `json:"errors"`
	Skipped      int64         `json:"skipped"`
	Duration     time.Duration `json:"duration_ns"`
}

// Title is a one-line summary, the email subject.
func (e Event) Title() string {
	switch e.Kind {
	case KindTest:
		return fmt.Sprintf("robo: test notification from %s", e.Host)
	case KindStale:
		return fmt.Sprintf("robo: %s is stale on %s", e.Set, e.Host)
	}
	return fmt.Sprintf("robo: %s %s on %s", e.Set, e.Outcome, e.Host)
}

// Sender delivers an event to one destination.
type Sender interface {
	// Send delivers ev before ctx ends. Its error never holds a secret or
	// a full webhook URL.
	Send(ctx context.Context, ev Event) error
	// Target says where Send delivers, safe to print and record.
	Target() string
}

// ClassOf maps a set outcome to the class a notify block's on list names:
// success, or failure for anything else (failed, partial, refused,
// interrupted).
func ClassOf(outcome string) string {
	if outcome == state.Success {
		return KindSuccess
	}
	return KindFailure
}

// Target is one notifier.
type Target struct {
	Name string
	// Kind is "webhook" or "smtp".
	Kind    string
	Timeout time.Duration
	Sender  Sender
	// wants reports whether the notifier sends events of a class for a set.
	wants func(class, set string) bool
}

// Report is the result of one send.
type Report struct {
	Notifier string `json:"notifier"`
	Kind     string `json:"kind"`
	Target   string `json:"target"`
	Set      string `json:"set,omitempty"`
	Event    string `json:"event"`
	// Err is nil when the notification was delivered.
	Err      error         `json:"-"`
	Duration time.Duration `json:"duration_ns"`
}

// Dispatcher sends events to the notifiers that want them.
type Dispatcher struct {
	// Targets are the notifiers, sorted by name.
	Targets     []*Target
	Host        string
	RoboVersion string
	Now         func() time.Time
	// Parallel bounds the sends in flight (4 when 0).
	Parallel int
}

// Resolver returns a secret's plaintext (cmd/robo decrypts it from the
// secrets file). It is called only when a notification is sent, at most
// once per secret and dispatcher.
type Resolver func(ref schema.SecretRef) ([]byte, error)

// FromConfig builds the dispatcher of cfg's notify blocks. resolve may be
// nil when no notifier uses a secret.
func FromConfig(cfg *schema.Config, resolve Resolver, roboVersion string) *Dispatcher {
	d := &Dispatcher{RoboVersion: roboVersion}
	names := make([]string, 0, len(cfg.Notifiers))
	for n := range cfg.Notifiers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		n := cfg.Notifiers[name]
		t := &Target{Name: name, Kind: n.Kind(), Timeout: n.Timeout, wants: n.Wants}
		if n.SMTP != nil {
			m := &Mail{Host: n.SMTP.Host, Port: n.SMTP.Port, Username: n.SMTP.Username, From: n.SMTP.From, To: n.SMTP.To, StartTLS: n.SMTP.StartTLS}
			if n.SMTP.Password != nil {
				m.Password = secretString(resolve, *n.SMTP.Password)
			}
			t.Sender = m
		} else {
			w := &Webhook{URL: n.URL, Healthchecks: n.Format == "healthchecks", UserAgent: "robo/" + roboVersion}
			if n.URLSecret != nil {
				w.SecretURL, w.SecretName = secretString(resolve, *n.URLSecret), n.URLSecret.Name
			}
			t.Sender = w
		}
		d.Targets = append(d.Targets, t)
	}
	return d
}

// secretString resolves ref once, on first use.
func secretString(resolve Resolver, ref schema.SecretRef) func() (string, error) {
	return sync.OnceValues(func() (string, error) {
		if resolve == nil {
			return "", fmt.Errorf("secret %q cannot be read here", ref.Name)
		}
		b, err := resolve(ref)
		if err != nil {
			return "", fmt.Errorf("secret %q: %w", ref.Name, err)
		}
		return string(b), nil
	})
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) host() string {
	if d.Host != "" {
		return d.Host
	}
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// Events turns an apply's results into events: one per set that was
// considered (the engine ran, a hook ran, or the set failed or was
// refused). Forgotten and disabled sets send nothing.
func (d *Dispatcher) Events(res *apply.Result) []Event {
	if res == nil {
		return nil
	}
	host, now := d.host(), d.now().UTC()
	var evs []Event
	for _, s := range res.Sets {
		if s.Action == plan.Forget || (s.Outcome == state.Success && s.Result == nil && len(s.Hooks) == 0) {
			continue
		}
		ev := Event{Kind: ClassOf(s.Outcome), Set: s.Name, Outcome: s.Outcome, Message: s.Message, Host: host, Time: now, RoboVersion: d.RoboVersion}
		if er := s.Result; er != nil {
			ev.Counts = &Counts{FilesCopied: er.Counters.Files.Copied, BytesCopied: er.BytesCopied, FilesDeleted: er.DeletedFiles,
				DirsDeleted: er.DeletedDirs, Errors: int64(len(er.Errors)), Skipped: int64(len(er.Skipped)), Duration: er.Duration}
		}
		evs = append(evs, ev)
	}
	return evs
}

// Results sends the events of an apply to the notifiers that want them.
func (d *Dispatcher) Results(ctx context.Context, res *apply.Result) []Report {
	return d.Send(ctx, d.Events(res))
}

// Stale reports that set has had no successful run since lastSuccess (the
// zero time: never) to the notifiers whose on list names "stale". robo
// watch and robo status decide when a set is stale (its alert_after).
func (d *Dispatcher) Stale(ctx context.Context, set string, lastSuccess time.Time) []Report {
	ev := Event{Kind: KindStale, Set: set, Outcome: KindStale, Host: d.host(), Time: d.now().UTC(), RoboVersion: d.RoboVersion}
	if lastSuccess.IsZero() {
		ev.Message = "no successful run recorded"
	} else {
		ls := lastSuccess.UTC()
		ev.LastSuccess = &ls
		ev.Message = "no successful run since " + ls.Format(time.RFC3339)
	}
	return d.Send(ctx, []Event{ev})
}

// ErrUnknownNotifier is returned by Test for a name no notify block has.
var ErrUnknownNotifier = errors.New("no such notifier")

// Test sends a test event to the notifier name, whatever its on list and
// sets filter.
func (d *Dispatcher) Test(ctx context.Context, name string) (Report, error) {
	for _, t := range d.Targets {
		if t.Name == name {
			ev := Event{Kind: KindTest, Outcome: KindTest, Host: d.host(), Time: d.now().UTC(), RoboVersion: d.RoboVersion,
				Message: "This is a test notification sent by robo notify test " + name + "."}
			return d.send(ctx, t, ev), nil
		}
	}
	return Report{}, fmt.Errorf("%w %q", ErrUnknownNotifier, name)
}

// Send delivers each event to every notifier that wants it, in parallel,
// each within its notifier's timeout. The sends go on when ctx is
// cancelled (an interrupted run is still reported); ctx's values are kept.
// Reports come in the order of events, then notifiers.
func (d *Dispatcher) Send(ctx context.Context, evs []Event) []Report {
	type job struct {
		t  *Target
		ev Event
	}
	var jobs []job
	for _, ev := range evs {
		for _, t := range d.Targets {
			if t.wants == nil || t.wants(ev.Kind, ev.Set) {
				jobs = append(jobs, job{t, ev})
			}
		}
	}
	reports := make([]Report, len(jobs))
	par := d.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			reports[i] = d.send(ctx, j.t, j.ev)
		}()
	}
	wg.Wait()
	return reports
}

func (d *Dispatcher) send(ctx context.Context, t *Target, ev Event) Report {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = schema.DefaultNotifyTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	start := time.Now()
	err := t.Sender.Send(ctx, ev)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("no answer within %s: %w", timeout, err)
	}
	return Report{Notifier: t.Name, Kind: t.Kind, Target: t.Sender.Target(), Set: ev.Set, Event: ev.Kind, Err: err, Duration: time.Since(start)}
}

// scrub replaces every occurrence of the secrets in msg (longest first).
func scrub(msg string, secrets map[string]string) string {
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		if len(k) >= 4 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		msg = strings.ReplaceAll(msg, k, secrets[k])
	}
	return msg
}
