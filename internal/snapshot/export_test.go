package snapshot

import "time"

// SetClock makes the snapshotter read the time from now.
func (s *Snapshotter) SetClock(now func() time.Time) { s.now = now }
