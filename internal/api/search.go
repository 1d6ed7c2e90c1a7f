package api

// searchRoutes registers its routes (being written).
func (a *API) searchRoutes() {}
