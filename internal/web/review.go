package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/views"
)

// Review, then apply (docs/api.md, "Run now: review, then apply"): Run now
// plans the set; a plan that changes nothing runs at once, any other is
// kept here under a random id, shown, and applied only by the same client
// (session or token) that asked for it, once, before it expires, and only
// if it still matches the configuration, the state and the trees
// (Backend.ApplyPlan).

const (
	// DefaultReviewTTL is how long a reviewed plan can be applied.
	DefaultReviewTTL = 10 * time.Minute
	// maxReviews bounds the plans kept; the oldest goes first.
	maxReviews = 32
)

type review struct {
	ID      string
	Set     string
	Owner   string
	Created time.Time
	Expires time.Time
	// plan holds the review's reference while it is kept (sharedPlan);
	// a reader takes its own with get or add.
	plan *sharedPlan
}

type reviews struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	m      map[string]*review
	closed bool
}

func newReviews(ttl time.Duration, now func() time.Time) *reviews {
	return &reviews{ttl: ttl, now: now, m: map[string]*review{}}
}

// add keeps p for review; it takes the caller's p and returns the review
// with a reference to p for the caller, to release when done reading (a
// plan that is not kept is closed: add failed, or Close ran).
func (rs *reviews) add(set, owner string, p *plan.Plan) (*review, *sharedPlan, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		p.Close()
		return nil, nil, err
	}
	now := rs.now()
	sp := share(p)
	rv := &review{ID: hex.EncodeToString(b), Set: set, Owner: owner, Created: now, Expires: now.Add(rs.ttl), plan: sp}
	var gone []*review
	defer func() { releaseAll(gone) }()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		gone = []*review{rv} // closes p
		return nil, nil, errors.New("the dashboard is shutting down")
	}
	gone = rs.expireLocked(now)
	for len(rs.m) >= maxReviews {
		var oldest *review
		for _, r := range rs.m {
			if oldest == nil || r.Created.Before(oldest.Created) {
				oldest = r
			}
		}
		delete(rs.m, oldest.ID)
		gone = append(gone, oldest)
	}
	rs.m[rv.ID] = rv
	return rv, sp.acquire(), nil
}

// get returns the review id of owner and a reference to its plan for the
// caller, who releases it when done reading; take also removes the review
// (a plan is applied at most once) and drops the review's reference.
func (rs *reviews) get(id, owner string, take bool) (*review, *sharedPlan) {
	var gone []*review
	defer func() { releaseAll(gone) }()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	gone = rs.expireLocked(rs.now())
	rv := rs.m[id]
	if rv == nil || rv.Owner != owner {
		return nil, nil
	}
	sp := rv.plan.acquire()
	if take {
		delete(rs.m, id)
		gone = append(gone, rv)
	}
	return rv, sp
}

// expireLocked removes the expired reviews and returns them, for the
// caller to release once it has unlocked.
func (rs *reviews) expireLocked(now time.Time) []*review {
	var gone []*review
	for id, r := range rs.m {
		if !now.Before(r.Expires) {
			delete(rs.m, id)
			gone = append(gone, r)
		}
	}
	return gone
}

// close forgets every review (Server.Close) and keeps no new one.
func (rs *reviews) close() {
	rs.mu.Lock()
	var gone []*review
	for _, r := range rs.m {
		gone = append(gone, r)
	}
	rs.m, rs.closed = map[string]*review{}, true
	rs.mu.Unlock()
	releaseAll(gone)
}

// releaseAll drops the references of reviews no longer kept.
func releaseAll(gone []*review) {
	for _, r := range gone {
		r.plan.release()
	}
}

type whoKey struct{}

// who is the client of r, as authenticate named it.
func who(r *http.Request) string {
	w, _ := r.Context().Value(whoKey{}).(string)
	return w
}

func withWho(r *http.Request, w string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), whoKey{}, w))
}

// reviewData is what the review page shows.
type reviewData struct {
	ID         string
	Set        string
	Expires    time.Time
	Text       string
	HasChanges bool
	Failed     bool
}

func planText(p *plan.Plan) (string, error) {
	var b strings.Builder
	err := (&views.PlanHuman{W: &b, MaxChanges: views.DefaultMaxChanges}).Plan(p)
	return b.String(), err
}

// startRun is Run now: the set's plan, run at once when it changes
// nothing, else kept for review. It returns the review (nil when the set
// was started) with a reference to its plan, which the caller releases,
// or an error with its HTTP status.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, name string) (*review, *sharedPlan, int, error) {
	extendWrite(w, planWriteTimeout)
	set, _, err := s.setByName(name)
	if err != nil {
		return nil, nil, http.StatusInternalServerError, err
	}
	if set == nil || !set.InConfig {
		return nil, nil, http.StatusNotFound, ErrUnknownSet
	}
	p, err := s.o.Backend.PlanSet(r.Context(), name)
	if err != nil {
		s.o.Audit("ui.plan", map[string]string{"set": name, "who": who(r), "remote": r.RemoteAddr, "outcome": "failed", "error": err.Error()})
		p.Close()
		return nil, nil, planStatus(err), err
	}
	if !p.HasChanges() && !p.Failed() {
		// Nothing to review: the run only records itself.
		p.Close()
		if err := s.runNow(r, name); err != nil {
			return nil, nil, planStatus(err), err
		}
		return nil, nil, 0, nil
	}
	rv, sp, err := s.reviews.add(name, who(r), p)
	if err != nil {
		return nil, nil, http.StatusInternalServerError, err
	}
	s.o.Audit("ui.plan", map[string]string{"set": name, "who": who(r), "remote": r.RemoteAddr, "outcome": "review", "review": rv.ID,
		"changes": strconv.Itoa(changesOf(sp.p, name))})
	return rv, sp, 0, nil
}

// changesOf is the number of changes of set in p.
func changesOf(p *plan.Plan, set string) int {
	if ps := p.Set(set); ps != nil {
		return ps.Changes.Len()
	}
	return 0
}

func planStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnknownSet):
		return http.StatusNotFound
	case errors.Is(err, ErrBusy), errors.Is(err, ErrStale):
		return http.StatusConflict
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusConflict
}

func (s *Server) runNowForm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rv, sp, code, err := s.startRun(w, r, name)
	if err != nil {
		s.fail(w, r, false, code, err.Error())
		return
	}
	sp.release()
	if rv == nil {
		http.Redirect(w, r, "/sets/"+url.PathEscape(name)+"?requested=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/reviews/"+rv.ID, http.StatusSeeOther)
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	rv, sp := s.reviews.get(r.PathValue("id"), who(r), false)
	if rv == nil {
		s.fail(w, r, false, http.StatusNotFound, "no such plan to review: it expired, was applied or discarded, or belongs to another session")
		return
	}
	d := reviewData{ID: rv.ID, Set: rv.Set, Expires: rv.Expires, HasChanges: sp.p.HasChanges(), Failed: sp.p.Failed()}
	txt, err := planText(sp.p)
	sp.release()
	if err != nil {
		s.fail(w, r, false, http.StatusInternalServerError, err.Error())
		return
	}
	d.Text = txt
	s.render(w, r, "review", page{Title: "Review the plan of " + safetext.Name(rv.Set), Data: d})
}

// applyReview applies the reviewed plan id; the plan is used up whatever
// the outcome, and closed once the run (if any) and every request reading
// it are done.
func (s *Server) applyReview(r *http.Request, id string) (*review, int, error) {
	rv, sp := s.reviews.get(id, who(r), true)
	if rv == nil {
		s.o.Audit("ui.apply", map[string]string{"review": id, "who": who(r), "remote": r.RemoteAddr, "outcome": "refused", "error": "no such review"})
		return nil, http.StatusNotFound, errors.New("no such plan to apply: it expired, was applied or discarded, or belongs to another session")
	}
	done := sync.OnceFunc(sp.release) // the run's reference, from here
	fields := map[string]string{"set": rv.Set, "review": rv.ID, "who": who(r), "remote": r.RemoteAddr, "outcome": "started"}
	if sp.p.Failed() {
		done()
		err := errors.New("this plan cannot be applied: a set was refused or could not be planned")
		fields["outcome"], fields["error"] = "refused", err.Error()
		s.o.Audit("ui.apply", fields)
		return rv, http.StatusConflict, err
	}
	var err error
	if s.hub.progressOf(rv.Set) != nil {
		err = fmt.Errorf("%w: a run of %s is in progress", ErrBusy, rv.Set)
	} else {
		err = s.o.Backend.ApplyPlan(r.Context(), sp.p, done)
	}
	if err != nil {
		done()
		fields["outcome"], fields["error"] = "refused", err.Error()
		if errors.Is(err, ErrStale) {
			fields["outcome"] = "stale"
		}
	}
	s.o.Audit("ui.apply", fields)
	if err != nil {
		return rv, planStatus(err), err
	}
	return rv, 0, nil
}

func (s *Server) applyReviewForm(w http.ResponseWriter, r *http.Request) {
	extendWrite(w, planWriteTimeout)
	rv, code, err := s.applyReview(r, r.PathValue("id"))
	if err != nil {
		msg := err.Error()
		if errors.Is(err, ErrStale) {
			msg = "Refused: " + msg + ". Nothing was changed. Press Run now again to review a new plan."
		}
		s.fail(w, r, false, code, msg)
		return
	}
	http.Redirect(w, r, "/sets/"+url.PathEscape(rv.Set)+"?applying=1", http.StatusSeeOther)
}

func (s *Server) discardReviewForm(w http.ResponseWriter, r *http.Request) {
	if rv, sp := s.reviews.get(r.PathValue("id"), who(r), true); rv != nil {
		sp.release()
		s.o.Audit("ui.discard", map[string]string{"set": rv.Set, "review": rv.ID, "who": who(r), "remote": r.RemoteAddr})
		http.Redirect(w, r, "/sets/"+url.PathEscape(rv.Set), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) apiPlanSet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rv, sp, code, err := s.startRun(w, r, name)
	if err != nil {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	if rv == nil {
		writeJSON(w, http.StatusAccepted, map[string]any{"set": name, "started": true, "reviewed": false})
		return
	}
	defer sp.release()
	txt, _ := planText(sp.p)
	writeJSON(w, http.StatusCreated, map[string]any{"set": name, "started": false, "review": rv.ID, "expires": rv.Expires,
		"plan": sp.p, "text": txt})
}

func (s *Server) apiApplyReview(w http.ResponseWriter, r *http.Request) {
	extendWrite(w, planWriteTimeout)
	rv, code, err := s.applyReview(r, r.PathValue("id"))
	if err != nil {
		writeJSON(w, code, map[string]any{"error": err.Error(), "stale": errors.Is(err, ErrStale)})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"set": rv.Set, "review": rv.ID, "started": true})
}
