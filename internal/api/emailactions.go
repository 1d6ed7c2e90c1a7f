package api

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

func (a *API) emailActionRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/email-actions/{token}", public: true, h: a.emailActionPage})
	a.add(&route{method: http.MethodPost, path: "/v1/email-actions/{token}", public: true, h: a.emailAction})
}

// actionPage is what the page of a mailed link states: the action, the request it is for, and the
// dates that matter, in the request's language.
type actionPage struct {
	Lang, Token, RequestID string
	Action                 string // cancel, confirm
	Account, Kind          string
	Requested, Due         string
}

// emailActionPage shows what a mailed link (cancel an account deletion, confirm a request) will do
// and for which request, with one button that POSTs to do it. Opening the link does nothing: mail
// scanners fetch every link they see.
func (a *API) emailActionPage(ctx context.Context, c *Call) (Response, error) {
	token := strings.ToLower(c.Req.PathParameters["token"])
	if token == "" || len(token) > 256 {
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	}
	ref, err := a.s.Ledger.ReferenceInfo(ctx, ledger.RefToken, token)
	if errors.Is(err, ledger.ErrUnknownReference) {
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	}
	if err != nil {
		return Response{}, err
	}
	if ref.Action == "confirm" && a.s.Now().Sub(ref.CreatedAt) > requests.ConfirmLinkValidity ||
		ref.Action != "confirm" && ref.Action != "cancel" {
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	}
	r, err := a.s.Ledger.Get(ctx, ref.RequestID)
	if errors.Is(err, ledger.ErrNotFound) {
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	}
	if err != nil {
		return Response{}, err
	}
	p, err := a.pageOf(ctx, r, ref.Action)
	if err != nil {
		return Response{}, err
	}
	p.Token = token
	if !pending(r, ref.Action) {
		return htmlPage(http.StatusConflict, pageTooLate, p), nil
	}
	return htmlPage(http.StatusOK, pageAsk, p), nil
}

// pending reports whether the link's action can still be taken on r.
func pending(r request.Request, action string) bool {
	if action == "cancel" {
		return r.Status == request.StatusReceived || r.Status == request.StatusScheduled || r.Status == request.StatusSoftDeleted
	}
	return r.Status == request.StatusAwaitingVerification
}

// pageOf names what a link's action is about: the account by its owner's name while it exists,
// the request's kind, when it was made and when its next step is due.
func (a *API) pageOf(ctx context.Context, r request.Request, action string) (actionPage, error) {
	acct, err := a.s.Store.Account(ctx, r.AccountID)
	if err != nil && !errors.Is(err, platform.ErrNotFound) {
		return actionPage{}, err
	}
	lang := evidence.LocaleOf(r.Locale, acct.Locale)
	p := actionPage{Lang: lang, RequestID: r.ID, Action: action, Account: cmp.Or(acct.FullName, r.AccountID),
		Requested: mailer.FormatDate(r.CreatedAt, lang)}
	p.Kind, _ = evidence.RequestKindTitle(string(r.Kind), lang)
	p.Kind = cmp.Or(p.Kind, string(r.Kind))
	due := r.Deadlines[request.DeadlineSoftDeleteEnds]
	if action == "confirm" {
		due = r.CreatedAt.Add(requests.ConfirmLinkValidity)
	}
	if !due.IsZero() {
		p.Due = mailer.FormatDate(due, lang)
	}
	return p, nil
}

// emailAction takes the action of a mailed link, from its page's button, and says what happened.
func (a *API) emailAction(ctx context.Context, c *Call) (Response, error) {
	token := strings.ToLower(c.Req.PathParameters["token"])
	if token == "" || len(token) > 256 {
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	}
	req, action, err := a.s.Requests.EmailAction(ctx, token, "email-link")
	switch {
	case errors.Is(err, requests.ErrNoRequest):
		return htmlPage(http.StatusNotFound, pageNotFound, actionPage{}), nil
	case errors.Is(err, requests.ErrTooLate):
		if ref, rerr := a.s.Ledger.ReferenceInfo(ctx, ledger.RefToken, token); rerr == nil {
			if r, gerr := a.s.Ledger.Get(ctx, ref.RequestID); gerr == nil {
				if p, perr := a.pageOf(ctx, r, ref.Action); perr == nil {
					return htmlPage(http.StatusConflict, pageTooLate, p), nil
				}
			}
		}
		return htmlPage(http.StatusConflict, pageTooLate, actionPage{}), nil
	case err != nil:
		return Response{}, err
	}
	p, err := a.pageOf(ctx, req, action)
	if err != nil {
		return Response{}, err
	}
	if action == "cancel" {
		return htmlPage(http.StatusOK, pageCancelled, p), nil
	}
	return htmlPage(http.StatusOK, pageConfirmed, p), nil
}

// The pages speak the request's language. A page without a request (an unknown link) says it in
// both: the person may not read the other. They are parsed on first use, not at every cold start of
// the API (TestTheCancelLinkOfTheConfirmationMail renders them).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="{{or .Lang "ru"}}"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Lethe</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.5">{{end}}
{{define "what"}}{{if eq .Lang "en"}}{{if eq .Action "cancel"}}Cancel the deletion of the account «{{.Account}}», requested on {{.Requested}}{{if .Due}}; it is permanently deleted from {{.Due}} unless cancelled{{end}}.{{else}}Confirm the deletion request ({{.Kind}}) for the account «{{.Account}}», received on {{.Requested}}{{if .Due}}; the link works until {{.Due}}{{end}}.{{end}}{{else}}{{if eq .Action "cancel"}}Отменить удаление учётной записи «{{.Account}}», запрошенное {{.Requested}}{{if .Due}}; без отмены она будет удалена безвозвратно с {{.Due}}{{end}}.{{else}}Подтвердить заявку на удаление ({{.Kind}}) для учётной записи «{{.Account}}», полученную {{.Requested}}{{if .Due}}; ссылка действует до {{.Due}}{{end}}.{{end}}{{end}}{{end}}
{{define "ref"}}<p style="color:#555">{{if eq .Lang "en"}}Request{{else}}Заявка №{{end}} {{.RequestID}}</p>{{end}}
{{define "ask"}}{{template "head" .}}<p>{{template "what" .}}</p>{{template "ref" .}}
<form method="post"><button type="submit" style="padding:.6em 1.2em;background:#224;color:#fff;border:0;font-size:1em;cursor:pointer">{{if eq .Lang "en"}}{{if eq .Action "cancel"}}Cancel the deletion{{else}}Confirm the request{{end}}{{else}}{{if eq .Action "cancel"}}Отменить удаление{{else}}Подтвердить заявку{{end}}{{end}}</button></form>
<p style="color:#555">{{if eq .Lang "en"}}Nothing happens until you press the button.{{else}}Пока вы не нажмёте кнопку, ничего не произойдёт.{{end}}</p></body></html>{{end}}
{{define "cancelled"}}{{template "head" .}}<p>{{if eq .Lang "en"}}The deletion of the account «{{.Account}}» is cancelled and the account restored.{{else}}Удаление учётной записи «{{.Account}}» отменено, учётная запись восстановлена.{{end}}</p>{{template "ref" .}}</body></html>{{end}}
{{define "confirmed"}}{{template "head" .}}<p>{{if eq .Lang "en"}}The request is confirmed and under way.{{else}}Заявка подтверждена и принята в работу.{{end}}</p>{{template "ref" .}}</body></html>{{end}}
{{define "toolate"}}{{template "head" .}}{{if .RequestID}}<p>{{if eq .Lang "en"}}Too late: the deletion has started or the request was already decided.{{else}}Слишком поздно: удаление уже началось или решение по заявке уже принято.{{end}}</p>{{template "ref" .}}{{else}}<p>Слишком поздно: удаление уже началось или решение уже принято. / Too late: the deletion has started or the request was decided.</p>{{end}}</body></html>{{end}}
{{define "notfound"}}{{template "head" .}}<p>Ссылка недействительна или устарела. / This link is unknown or has expired.</p></body></html>{{end}}
`))
})

const (
	pageAsk       = "ask"
	pageCancelled = "cancelled"
	pageConfirmed = "confirmed"
	pageTooLate   = "toolate"
	pageNotFound  = "notfound"
)

// htmlPage renders a page; its form posts back to the page's own address.
func htmlPage(status int, name string, p actionPage) Response {
	var b strings.Builder
	if err := pages().ExecuteTemplate(&b, name, p); err != nil {
		return problemFor(http.StatusInternalServerError, "")
	}
	return Response{Status: status, Raw: []byte(b.String()), ContentType: "text/html; charset=utf-8",
		Headers: map[string]string{"cache-control": "no-store", "referrer-policy": "no-referrer",
			"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}}
}
