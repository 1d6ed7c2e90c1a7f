package api

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/requests"
)

func (a *API) emailActionRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/email-actions/{token}", public: true, h: a.emailAction})
}

// emailAction serves the links Lethe mails (cancel an account deletion, confirm a request). Opening
// the link shows what it will do and a button; only the button (?do=1) acts, so a mail scanner that
// fetches every link confirms or cancels nothing.
func (a *API) emailAction(ctx context.Context, c *Call) (Response, error) {
	token := c.Req.PathParameters["token"]
	if token == "" || len(token) > 256 {
		return htmlPage(http.StatusNotFound, pageNotFound, token), nil
	}
	if c.Req.QueryStringParameters["do"] != "1" {
		if _, _, err := a.s.Ledger.Reference(ctx, ledger.RefToken, strings.ToLower(token)); err != nil {
			return htmlPage(http.StatusNotFound, pageNotFound, token), nil
		}
		return htmlPage(http.StatusOK, pageAsk, token), nil
	}
	req, action, err := a.s.Requests.EmailAction(ctx, token, "email-link")
	switch {
	case errors.Is(err, requests.ErrNoRequest):
		return htmlPage(http.StatusNotFound, pageNotFound, token), nil
	case errors.Is(err, requests.ErrTooLate):
		return htmlPage(http.StatusConflict, pageTooLate, token), nil
	case err != nil:
		return Response{}, err
	}
	if action == "cancel" {
		return htmlPage(http.StatusOK, pageCancelled, req.ID), nil
	}
	return htmlPage(http.StatusOK, pageConfirmed, req.ID), nil
}

// The pages say the same in Russian and English: the person may not read the other.
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Lethe</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto">{{end}}
{{define "ask"}}{{template "head"}}<p>Подтвердите действие по ссылке из письма. / Confirm the action of the link you were sent.</p>
<p><a href="?do=1" style="padding:.6em 1.2em;background:#224;color:#fff;text-decoration:none">Подтвердить / Confirm</a></p></body></html>{{end}}
{{define "cancelled"}}{{template "head"}}<p>Удаление учётной записи отменено, учётная запись восстановлена (заявка {{.}}). / The account deletion is cancelled and the account restored (request {{.}}).</p></body></html>{{end}}
{{define "confirmed"}}{{template "head"}}<p>Заявка {{.}} подтверждена и принята в работу. / Request {{.}} is confirmed and under way.</p></body></html>{{end}}
{{define "toolate"}}{{template "head"}}<p>Слишком поздно: удаление уже началось или решение уже принято. / Too late: the deletion has started or the request was decided.</p></body></html>{{end}}
{{define "notfound"}}{{template "head"}}<p>Ссылка недействительна или устарела. / This link is unknown or has expired.</p></body></html>{{end}}
`))

const (
	pageAsk       = "ask"
	pageCancelled = "cancelled"
	pageConfirmed = "confirmed"
	pageTooLate   = "toolate"
	pageNotFound  = "notfound"
)

func htmlPage(status int, name, data string) Response {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return problemFor(http.StatusInternalServerError, "")
	}
	return Response{Status: status, Raw: []byte(b.String()), ContentType: "text/html; charset=utf-8",
		Headers: map[string]string{"cache-control": "no-store", "referrer-policy": "no-referrer"}}
}
