package meetings

// Waiting is how many runs wait for the meeting's writer, the one it is
// storing not counted.
func Waiting(s *Service, meetingID int64) int {
	s.writers.mu.Lock()
	defer s.writers.mu.Unlock()
	return len(s.writers.pending[meetingID])
}
