package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/fleet"
)

func fleetStatus() *fleet.Status {
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	rep := func(host string, sets ...fleet.Set) *fleet.Report {
		return &fleet.Report{FormatVersion: "1", Host: host, RoboVersion: "v1.2.0", GeneratedAt: at, Sets: sets}
	}
	return &fleet.Status{Time: at, Newest: "v1.2.0",
		Counts: fleet.Counts{Hosts: 4, OK: 1, Failing: 1, Stale: 1, Invalid: 1},
		Hosts: []fleet.Host{
			{File: "alpha.json", Host: "alpha", State: fleet.OK, Report: rep("alpha", fleet.Set{Name: "docs", Enabled: true, Health: "ok"})},
			{File: "beta.json", Host: "beta", State: fleet.Failing, Reasons: []string{"set mail: failed: disk \x1b[2Jfull"},
				Report: rep("beta", fleet.Set{Name: "mail", Enabled: true, Health: "failing"})},
			{File: "evil\u202e.json", Host: "evil\u202e", State: fleet.Invalid, Reasons: []string{"report: not JSON"}},
			{File: "gamma.json", Host: "gamma", State: fleet.Stale, Reasons: []string{"set photos: run due at 2026-11-01 01:00 not reported"},
				Report: rep("gamma", fleet.Set{Name: "photos", Enabled: true, Health: "stale"})},
		}}
}

func TestFleetPage(t *testing.T) {
	var fail error
	s, err := New(Options{Backend: &fakeBackend{}, Loopback: true, FleetPath: `\\srv\reports`,
		Fleet: func(context.Context) (*fleet.Status, error) { return fleetStatus(), fail }})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, base: serve(t, s)}
	code, body := c.do("GET", "/fleet", "", nil, nil)
	if code != 200 {
		t.Fatalf("/fleet: %d\n%s", code, body)
	}
	for _, want := range []string{`<a href="/fleet" aria-current="page">Fleet</a>`, "4 hosts:", "1 ok", "1 failing", "1 stale", "1 invalid", "0 old version",
		`data-host="alpha" data-state="ok"`, `data-host="beta" data-state="failing"`, `data-host="gamma" data-state="stale"`,
		`<td data-label="Failing sets">mail</td>`, `<td data-label="Stale sets">photos</td>`, "v1.2.0", `\\srv\reports`,
		`disk \x1b[2Jfull`, `&#34;evil\u202e&#34;`} {
		if !strings.Contains(body, want) {
			t.Errorf("/fleet lacks %q", want)
		}
	}
	if strings.ContainsAny(body, "\x1b\u202e") {
		t.Error("/fleet shows a raw control or bidi character")
	}
	// Problems first: invalid, stale, failing, then ok.
	order := []string{`data-state="invalid"`, `data-state="stale"`, `data-state="failing"`, `data-state="ok"`}
	last := -1
	for _, o := range order {
		i := strings.Index(body, o)
		if i < last {
			t.Errorf("%s is not after the worse states", o)
		}
		last = i
	}
	if _, home := c.do("GET", "/", "", nil, nil); !strings.Contains(home, `href="/fleet"`) {
		t.Error("the dashboard has no Fleet entry")
	}

	code, body = c.do("GET", "/api/fleet", "", nil, nil)
	var doc struct {
		FormatVersion string `json:"format_version"`
		Path          string `json:"path"`
		Counts        fleet.Counts
		Hosts         []fleet.Host
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || code != 200 {
		t.Fatalf("/api/fleet: %d %v\n%s", code, err, body)
	}
	if doc.FormatVersion != fleet.DocumentFormatVersion || doc.Path != `\\srv\reports` || doc.Counts.Hosts != 4 || len(doc.Hosts) != 4 || doc.Hosts[1].State != fleet.Failing || doc.Hosts[1].Report.Sets[0].Name != "mail" {
		t.Errorf("/api/fleet document: %+v", doc)
	}

	fail = errors.New("list \\\\srv\\reports: access denied")
	if code, body := c.do("GET", "/fleet", "", nil, nil); code != 502 || !strings.Contains(body, "access denied") {
		t.Errorf("unreadable folder: /fleet %d\n%s", code, body)
	}
	if code, body := c.do("GET", "/api/fleet", "", nil, nil); code != 502 || !strings.Contains(body, "access denied") {
		t.Errorf("unreadable folder: /api/fleet %d\n%s", code, body)
	}
}

func TestNoFleet(t *testing.T) {
	s, _ := New(Options{Backend: &fakeBackend{}, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	if code, _ := c.do("GET", "/fleet", "", nil, nil); code != 404 {
		t.Errorf("/fleet without a fleet: %d", code)
	}
	if code, body := c.do("GET", "/api/fleet", "", nil, nil); code != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("/api/fleet without a fleet: %d %s", code, body)
	}
	if _, home := c.do("GET", "/", "", nil, nil); strings.Contains(home, `/fleet`) {
		t.Error("the navigation has a Fleet entry without a fleet")
	}
}
