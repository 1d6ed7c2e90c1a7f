package api

// activityLogRoutes registers its routes (being written).
func (a *API) activityLogRoutes() {}
