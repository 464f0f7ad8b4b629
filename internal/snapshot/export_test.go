package snapshot

import "time"

// AgePace makes the last snapshot of a paced user d older.
func (s *Snapshotter) AgePace(userID string, d time.Duration) {
	p := s.paced[userID]
	p.at = p.at.Add(-d)
	s.paced[userID] = p
}
