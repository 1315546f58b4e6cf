package web

import "strings"

// section is the navigation entry a path belongs to.
func section(path string) string {
	switch {
	case path == "/" || strings.HasPrefix(path, "/sets/"):
		return "sets"
	case strings.HasPrefix(path, "/logs"):
		return "logs"
	case strings.HasPrefix(path, "/plan"):
		return "plan"
	case path == "/fleet":
		return "fleet"
	}
	return ""
}

// healthCount is one health and how many sets have it.
type healthCount struct {
	Health string
	N      int
}

// healthSummary counts the sets per health (running counted apart), in
// the order an admin reads them: problems first.
func healthSummary(sets []SetView) []healthCount {
	order := []string{"failing", "stale", "running", "ok", "never", "disabled"}
	n := map[string]int{}
	for _, s := range sets {
		h := s.Health
		if s.Running {
			h = "running"
		}
		n[h]++
	}
	var out []healthCount
	for _, h := range order {
		if n[h] > 0 {
			out = append(out, healthCount{h, n[h]})
			delete(n, h)
		}
	}
	rest := 0
	for _, c := range n {
		rest += c
	}
	if rest > 0 {
		out = append(out, healthCount{"other", rest})
	}
	return out
}
