package webhooks

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/request"
)

// Status is the status page's data (api/openapi.yaml DeletionStatus): the deletion's state and
// dates, and how many items it destroyed — never who, or what they said.
type Status struct {
	ConfirmationCode string `json:"confirmationCode"`
	// RequestID and Kind say which request the page is about (an opaque id and what it deletes).
	RequestID   string         `json:"requestId"`
	Kind        request.Kind   `json:"kind"`
	Status      request.Status `json:"status"`
	CreatedAt   time.Time      `json:"createdAt"`
	UpdatedAt   time.Time      `json:"updatedAt"`
	CompleteBy  *time.Time     `json:"completeBy,omitempty"`
	CompletedAt *time.Time     `json:"completedAt"`
	// ItemsDeleted counts what was destroyed so far; with the deletion completed, 0 means no data
	// was held for that identity.
	ItemsDeleted int64 `json:"itemsDeleted"`
	// Stages are the steps an end customer's request has reached, in order (absent for other
	// requests).
	Stages []Stage `json:"stages,omitempty"`
	// Verification is the one-time code the requester may be asked to enter, proving the chat is
	// theirs (absent for other requests): which channel's chat it went to and until when it may be
	// entered. Never the chat, the end user, nor the code.
	Verification *StatusVerification `json:"verification,omitempty"`
}

// StatusVerification is where the requester's proof stands on their status page.
type StatusVerification struct {
	Status     request.VerificationStatus `json:"status"`
	Channel    string                     `json:"channel,omitempty"`
	ExpiresAt  *time.Time                 `json:"expiresAt,omitempty"`
	VerifiedAt *time.Time                 `json:"verifiedAt,omitempty"`
}

// statusVerification is the request's proof as its status page shows it.
func statusVerification(r request.Request, now time.Time) *StatusVerification {
	out := &StatusVerification{Status: r.VerificationStatus(now)}
	if v := r.Verification; v != nil && !v.SentAt.IsZero() {
		exp := v.ExpiresAt
		out.Channel, out.ExpiresAt, out.VerifiedAt = v.Channel, &exp, v.VerifiedAt
	}
	return out
}

// Stage is one step an end customer's request has reached, and when.
type Stage struct {
	Name StageName `json:"name"`
	At   time.Time `json:"at"`
	// Reason is the owner's (or the privacy officer's) reason for a decline, as they wrote it.
	Reason string `json:"reason,omitempty"`
}

// StageName names a step of an end customer's request.
type StageName string

const (
	StageReceived      StageName = "received"
	StageOwnerNotified StageName = "owner_notified"
	StageEscalated     StageName = "escalated"
	StageApproved      StageName = "approved"
	StageDeclined      StageName = "declined"
	StageDone          StageName = "done"
)

// stages reads an end customer's request's steps from the ledger: the owner is notified by the
// mail the workflow sends once it waits for them (dated by that wait's start), escalated by the
// event that hands it to the privacy officer, decided by the decision, done when completed. Who
// decided is not said.
func stages(r request.Request) []Stage {
	out := []Stage{{Name: StageReceived, At: r.CreatedAt}}
	if r.Mail[string(mailer.EndCustomerOwnerNotice)] != "" {
		for _, e := range r.History {
			if e.Status == request.StatusAwaitingVerification {
				out = append(out, Stage{Name: StageOwnerNotified, At: e.At})
				break
			}
		}
	}
	if at, ok := r.EscalatedAt(); ok {
		out = append(out, Stage{Name: StageEscalated, At: at})
	}
	if d := r.Decision; d != nil {
		if d.Approved {
			out = append(out, Stage{Name: StageApproved, At: d.At})
		} else {
			out = append(out, Stage{Name: StageDeclined, At: d.At, Reason: d.Reason})
		}
	}
	if r.Status == request.StatusCompleted && r.ClosedAt != nil {
		out = append(out, Stage{Name: StageDone, At: *r.ClosedAt})
	}
	return out
}

// customerPage is what the end customer's page renders: the status in the request's language.
type customerPage struct {
	St      Status
	Lang    string
	Decided bool
	Words   map[string]string
	// Channel is the channel's name the code went to, as people write it.
	Channel string
	// Notice says what became of a code just entered (wrong, expired, too many tries).
	Notice string
}

// channelNames are the channels as the page names them.
var channelNames = map[string]string{"telegram": "Telegram", "whatsapp": "WhatsApp", "messenger": "Messenger",
	"instagram": "Instagram", "slack": "Slack", "vk": "VK", "viber": "Viber"}

var customerWords = map[string]map[string]string{
	"ru": {
		"title": "Ваш запрос на удаление данных", "request": "Запрос №",
		string(StageReceived): "Запрос получен", string(StageOwnerNotified): "Владелец бота уведомлён",
		string(StageEscalated): "Владелец бота не ответил за 10 рабочих дней: решение примет лицо, ответственное за организацию обработки персональных данных на платформе",
		string(StageApproved):  "Запрос одобрен", string(StageDeclined): "Запрос отклонён", "reason": "Причина",
		string(StageDone): "Данные удалены", "waiting": "Ждём решения по запросу.", "deleting": "Данные удаляются.",
		"completeBy": "Срок исполнения — не позднее", "updated": "Обновлено",
		"failed":    "Исполнение задерживается, запрос передан ответственному лицу.",
		"held":      "Удаление приостановлено по требованию уполномоченного органа.",
		"codeSent":  "Мы отправили код подтверждения в ваш чат %s. Введите его, чтобы подтвердить, что этот чат ваш. Код действует до %s.",
		"codeLabel": "Код из чата", "codeSubmit": "Подтвердить",
		"verified": "Вы подтвердили, что чат принадлежит вам.",
		"wrong":    "Неверный код. Осталось попыток: %d.",
		"spent":    "Код больше не действует: его срок истёк или попытки исчерпаны. Владелец бота может отправить новый.",
		"tooMany":  "Слишком много попыток с вашего адреса. Попробуйте позже.",
		"noCode":   "Сейчас нет кода, который нужно ввести.",
	},
	"en": {
		"title": "Your data deletion request", "request": "Request",
		string(StageReceived): "Request received", string(StageOwnerNotified): "The bot's owner notified",
		string(StageEscalated): "The bot's owner did not answer within 10 business days: the platform's privacy officer will decide",
		string(StageApproved):  "Request approved", string(StageDeclined): "Request declined", "reason": "Reason",
		string(StageDone): "Data deleted", "waiting": "The request awaits a decision.", "deleting": "The data is being deleted.",
		"completeBy": "To be completed by", "updated": "Updated",
		"failed":    "The request is delayed and was referred to the privacy officer.",
		"held":      "The deletion is paused by a lawful authority's hold.",
		"codeSent":  "We sent a confirmation code to your %s chat. Enter it to confirm the chat is yours. The code is valid until %s.",
		"codeLabel": "Code from the chat", "codeSubmit": "Confirm",
		"verified": "You confirmed the chat is yours.",
		"wrong":    "Wrong code. Tries left: %d.",
		"spent":    "The code is no longer valid: it expired or its tries are used up. The bot's owner may send a new one.",
		"tooMany":  "Too many tries from your address. Please try again later.",
		"noCode":   "There is no code to enter now.",
	},
}

// statusPage serves GET /deletion-status/{code}: HTML for a person (in Russian and English, or in
// the language of an end customer's request), JSON when asked for. An unknown code answers 404 the
// same way whatever it is. The code is the key: no cache keeps the answer and no link on the page
// hands it to another site in a Referer.
func (s *Service) statusPage(ctx context.Context, c *call) (answer, error) {
	a, err := s.status(ctx, c)
	a.headers = map[string]string{"cache-control": "no-store", "referrer-policy": "no-referrer"}
	return a, err
}

func (s *Service) status(ctx context.Context, c *call) (answer, error) {
	code := strings.ToLower(c.req.PathParameters["confirmationCode"])
	wantsJSON := strings.Contains(c.header("Accept"), "application/json")
	ref, req, found, err := s.lookupStatus(ctx, code)
	if err != nil || !found {
		return statusNotFound(wantsJSON), err
	}
	return s.render(code, ref, req, wantsJSON, http.StatusOK, ""), nil
}

func statusNotFound(wantsJSON bool) answer {
	if wantsJSON {
		return problem(http.StatusNotFound, "no deletion has this confirmation code")
	}
	return page(http.StatusNotFound, "notfound", nil)
}

// lookupStatus finds the request a status page's code names; found is false for any code that
// names none.
func (s *Service) lookupStatus(ctx context.Context, code string) (ledger.Ref, request.Request, bool, error) {
	if code == "" || len(code) > 128 {
		return ledger.Ref{}, request.Request{}, false, nil
	}
	ref, err := s.Ledger.ReferenceInfo(ctx, ledger.RefStatus, code)
	if errors.Is(err, ledger.ErrUnknownReference) {
		return ref, request.Request{}, false, nil
	}
	if err != nil {
		return ref, request.Request{}, false, err
	}
	req, err := s.Ledger.Get(ctx, ref.RequestID)
	if errors.Is(err, ledger.ErrNotFound) {
		return ref, req, false, nil
	}
	if err != nil {
		return ref, req, false, err
	}
	return ref, req, true, nil
}

// render is the status page of req (HTML or JSON) with the given status and, on an end
// customer's page, a notice.
func (s *Service) render(code string, ref ledger.Ref, req request.Request, wantsJSON bool, status int, notice string) answer {
	st := Status{ConfirmationCode: code, RequestID: req.ID, Kind: req.Kind, Status: req.Status, CreatedAt: req.CreatedAt, UpdatedAt: req.UpdatedAt, CompletedAt: req.ClosedAt}
	if at, ok := req.Deadlines[request.DeadlineCompleteBy]; ok {
		st.CompleteBy = &at
	}
	for _, n := range req.Progress {
		st.ItemsDeleted += n
	}
	customer := ref.Action == ledger.ActionEndCustomerStatus && req.Kind == request.KindEndCustomerRequest
	if customer {
		st.Stages = stages(req)
		st.Verification = statusVerification(req, s.now())
	}
	if wantsJSON {
		return jsonAnswer(status, st)
	}
	if customer {
		lang := customerLang(req)
		ch := ""
		if st.Verification.Channel != "" {
			ch = channelNames[st.Verification.Channel]
		}
		return page(status, "customer", customerPage{St: st, Lang: lang, Decided: req.Decision != nil, Words: customerWords[lang],
			Channel: ch, Notice: notice})
	}
	return page(status, "status", st)
}

// customerLang is the language of an end customer's page: their mail's.
func customerLang(r request.Request) string {
	if customerWords[r.Locale] == nil {
		return "en"
	}
	return r.Locale
}

var statusWords = map[request.Status][2]string{
	request.StatusReceived:               {"получена", "received"},
	request.StatusScheduled:              {"принята в работу", "scheduled"},
	request.StatusHardDeleting:           {"данные удаляются", "deleting"},
	request.StatusAwaitingBackupRotation: {"данные удалены, идёт обновление резервных копий", "deleted; backups rotating"},
	request.StatusCompleted:              {"выполнена", "completed"},
	request.StatusHeld:                   {"приостановлена по требованию уполномоченного органа", "paused by a lawful authority's hold"},
	request.StatusFailed:                 {"задерживается, передана ответственному лицу", "delayed; referred to the privacy officer"},
}

var moscow = time.FixedZone("MSK", 3*3600)

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"word": func(s request.Status, i int) string {
		if w, ok := statusWords[s]; ok {
			return w[i]
		}
		return string(s)
	},
	"date": func(v any) string {
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case *time.Time:
			t = *x
		}
		return t.In(moscow).Format("02.01.2006 15:04") + " MSK"
	},
	"done": func(s request.Status) bool {
		return s == request.StatusCompleted || s == request.StatusAwaitingBackupRotation
	},
	"kind": func(k request.Kind, i int) string {
		w, ok := evidence.RequestKindTitle(string(k), [2]string{evidence.LocaleRU, evidence.LocaleEN}[i])
		if !ok {
			return string(k)
		}
		return w
	},
	// stage is where a request stands on the page's three steps: 1 received, 2 deleting, 3 done.
	"stage": func(s request.Status) int {
		switch s {
		case request.StatusCompleted, request.StatusAwaitingBackupRotation:
			return 3
		case request.StatusHardDeleting, request.StatusHeld, request.StatusFailed:
			return 2
		}
		return 1
	},
}).Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width"><title>Удаление данных / Data deletion</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5">{{end}}
{{define "status"}}{{template "head"}}
<h1>Удаление данных / Data deletion</h1>
<p>Заявка № / Request <code>{{.RequestID}}</code>: {{kind .Kind 0}} / {{kind .Kind 1}}</p>
<p>Код подтверждения / Confirmation code: <code>{{.ConfirmationCode}}</code></p>
{{$st := stage .Status}}<ol>
<li>{{if eq $st 1}}<strong>{{end}}Получена / Received — {{date .CreatedAt}}{{if eq $st 1}}</strong>{{end}}</li>
<li>{{if eq $st 2}}<strong>{{end}}Данные удаляются / Data being deleted{{if eq $st 2}}</strong>{{end}}</li>
<li>{{if eq $st 3}}<strong>{{end}}Выполнена / Done{{if .CompletedAt}} — {{date .CompletedAt}}{{end}}{{if eq $st 3}}</strong>{{end}}</li>
</ol>
<section lang="ru"><h2>Состояние</h2>
<p>Заявка {{word .Status 0}}. Получена {{date .CreatedAt}}.{{if .CompleteBy}} Срок исполнения — не позднее {{date .CompleteBy}}.{{end}}{{if .CompletedAt}} Выполнена {{date .CompletedAt}}.{{end}}</p>
{{if done .Status}}{{if .ItemsDeleted}}<p>Удалено записей: {{.ItemsDeleted}}.</p>{{else}}<p>Данных, связанных с этим пользователем, у нас не было: удалять было нечего.</p>{{end}}{{end}}
</section>
<section lang="en"><h2>Status</h2>
<p>The request is {{word .Status 1}}. Received {{date .CreatedAt}}.{{if .CompleteBy}} To be completed by {{date .CompleteBy}}.{{end}}{{if .CompletedAt}} Completed {{date .CompletedAt}}.{{end}}</p>
{{if done .Status}}{{if .ItemsDeleted}}<p>Items deleted: {{.ItemsDeleted}}.</p>{{else}}<p>We held no data about this user: there was nothing to delete.</p>{{end}}{{end}}
</section>
<p style="color:#666">Обновлено / Updated {{date .UpdatedAt}}</p></body></html>{{end}}
{{define "customer"}}<!doctype html><html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width"><title>{{.Words.title}}</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5">
<h1>{{.Words.title}}</h1>
<p>{{.Words.request}} <code>{{.St.RequestID}}</code></p>
<ol>{{$w := .Words}}{{range .St.Stages}}
<li data-stage="{{.Name}}">{{index $w (print .Name)}} — {{date .At}}{{if .Reason}}<br>{{index $w "reason"}}: {{.Reason}}{{end}}</li>{{end}}
</ol>
{{with .St.Verification}}{{if eq .Status "verified"}}<p data-verification="verified"><strong>{{$.Words.verified}}</strong></p>{{else if eq .Status "pending"}}<section data-verification="pending">
<p>{{printf (index $.Words "codeSent") $.Channel (date .ExpiresAt)}}</p>
{{if $.Notice}}<p role="alert" style="color:#a00">{{$.Notice}}</p>{{end}}
<form method="post" action="{{$.St.ConfirmationCode}}/verification"><label>{{$.Words.codeLabel}} <input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required></label> <button type="submit">{{$.Words.codeSubmit}}</button></form>
</section>{{else if $.Notice}}<p role="alert" style="color:#a00">{{$.Notice}}</p>{{end}}{{end}}
{{if eq .St.Status "failed"}}<p>{{.Words.failed}}</p>{{else if eq .St.Status "held"}}<p>{{.Words.held}}</p>{{else if not .St.CompletedAt}}<p>{{if .Decided}}{{.Words.deleting}}{{else}}{{.Words.waiting}}{{end}}{{if .St.CompleteBy}} {{.Words.completeBy}} {{date .St.CompleteBy}}.{{end}}</p>{{end}}
<p style="color:#666">{{.Words.updated}} {{date .St.UpdatedAt}}</p></body></html>{{end}}
{{define "notfound"}}{{template "head"}}<p>Заявка с таким кодом не найдена. / No deletion has this confirmation code.</p></body></html>{{end}}
`))

func page(status int, name string, data any) answer {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return problem(http.StatusInternalServerError, "")
	}
	return answer{status: status, contentType: "text/html; charset=utf-8", body: b.Bytes()}
}
