package kafka

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 { return s.conns.Len() }
