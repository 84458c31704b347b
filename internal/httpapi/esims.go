package httpapi

// esimRoutes lists the eSIM endpoints.
func (s *Server) esimRoutes() []route {
	return nil
}
