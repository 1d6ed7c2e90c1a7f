package api

import (
	"context"
	"net/http"

	"github.com/lethe-dev/lethe/internal/console"
)

// consoleRoutes serve the web console (internal/console) from the API's own origin: public routes,
// since the console's files are the same for everyone and the sign-in happens inside them.
func (a *API) consoleRoutes() {
	a.add(&route{method: http.MethodGet, path: "/console", public: true, h: a.consoleEntry})
	a.add(&route{method: http.MethodGet, path: "/console/{proxy+}", public: true, h: a.consoleFile})
}

func (a *API) consoleEntry(context.Context, *Call) (Response, error) {
	return Response{Status: http.StatusMovedPermanently, Headers: map[string]string{"location": console.Entry}}, nil
}

func (a *API) consoleFile(_ context.Context, c *Call) (Response, error) {
	f := a.s.Console.Serve(c.Req.PathParameters["proxy"], header(c.Req, "if-none-match"))
	if !f.Found() {
		return problemFor(http.StatusNotFound, "no such console file"), nil
	}
	return Response{Status: f.Status, Raw: f.Body, ContentType: f.Headers["content-type"], Headers: f.Headers}, nil
}
