package state

import "fmt"

// MoveError says why a state entry cannot be moved.
type MoveError struct {
	From, To string
	// Missing is true when From is not recorded; otherwise To already is.
	Missing bool
}

func (e *MoveError) Error() string {
	if e.Missing {
		return fmt.Sprintf("the state has no backup set named %q", e.From)
	}
	return fmt.Sprintf("the state already has a backup set named %q", e.To)
}

// Move renames the record of set from to to, keeping everything recorded
// of it (last run, last success, when it was applied, its configuration
// digest). It refuses, changing nothing, when from is not recorded or to
// already is. The caller writes the state (under the lock).
func (s *State) Move(from, to string) error {
	rec := s.Sets[from]
	if rec == nil {
		return &MoveError{From: from, To: to, Missing: true}
	}
	if from == to || s.Sets[to] != nil {
		return &MoveError{From: from, To: to}
	}
	delete(s.Sets, from)
	rec.Name = to
	s.Sets[to] = rec
	return nil
}
