package api

// privacyRoutes registers its routes (being written).
func (a *API) privacyRoutes() {}
