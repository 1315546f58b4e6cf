package web

import (
	"net/http"
	"time"

	"github.com/robo-backup/robo/internal/fleet"
)

// The fleet page (/fleet) and GET /api/fleet: the report folder of
// robo fleet status, read through Options.Fleet on each request.

// fleetData is the fleet page's data.
type fleetData struct {
	Path   string
	Status *fleet.Status
	Hosts  []fleetRow
}

// fleetRow is one host of the fleet page.
type fleetRow struct {
	fleet.Host
	// Failing and Stale are the names of the report's sets in that health.
	Failing, Stale []string
}

func fleetRows(st *fleet.Status) []fleetRow {
	var rows []fleetRow
	for _, h := range fleet.ProblemsFirst(st.Hosts) {
		row := fleetRow{Host: h}
		if h.Report != nil {
			for _, set := range h.Report.Sets {
				switch string(set.Health) {
				case "failing":
					row.Failing = append(row.Failing, set.Name)
				case "stale":
					row.Stale = append(row.Stale, set.Name)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) {
	if s.o.Fleet == nil {
		s.fail(w, r, false, http.StatusNotFound, "no fleet folder: start the dashboard with -fleet PATH or configure report { path = ... }")
		return
	}
	extendWrite(w, planWriteTimeout)
	st, err := s.o.Fleet(r.Context())
	if err != nil {
		s.fail(w, r, false, http.StatusBadGateway, err.Error())
		return
	}
	s.render(w, r, "fleet", page{Title: "Fleet", Refresh: time.Minute, Data: fleetData{Path: s.o.FleetPath, Status: st, Hosts: fleetRows(st)}})
}

func (s *Server) apiFleet(w http.ResponseWriter, r *http.Request) {
	if s.o.Fleet == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no fleet folder: start the dashboard with -fleet PATH or configure report { path = ... }"})
		return
	}
	extendWrite(w, planWriteTimeout)
	st, err := s.o.Fleet(r.Context())
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, fleet.NewDocument(s.o.FleetPath, st))
}
