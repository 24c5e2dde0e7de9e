package kafka

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.mu.conns))
}
