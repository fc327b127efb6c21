package managers

// NumObjects returns the number of objects s holds, for the tests of
// their lifetime (Python's _number_of_objects).
func NumObjects(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// Flush sends m's session's releases to the server.
func Flush(m *Manager) error {
	c, err := m.client()
	if err != nil {
		return err
	}
	_, err = c.do(&request{op: opRelease}, "flush")
	return err
}
