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
}

// statusPage serves GET /deletion-status/{code}: HTML in Russian and English for a person, JSON
// when asked for. An unknown code answers 404 the same way whatever it is.
func (s *Service) statusPage(ctx context.Context, c *call) (answer, error) {
	code := strings.ToLower(c.req.PathParameters["confirmationCode"])
	wantsJSON := strings.Contains(c.header("Accept"), "application/json")
	notFound := func() answer {
		if wantsJSON {
			return problem(http.StatusNotFound, "no deletion has this confirmation code")
		}
		return page(http.StatusNotFound, "notfound", nil)
	}
	if code == "" || len(code) > 128 {
		return notFound(), nil
	}
	ref, err := s.Ledger.ReferenceInfo(ctx, ledger.RefStatus, code)
	if errors.Is(err, ledger.ErrUnknownReference) {
		return notFound(), nil
	}
	if err != nil {
		return answer{}, err
	}
	req, err := s.Ledger.Get(ctx, ref.RequestID)
	if errors.Is(err, ledger.ErrNotFound) {
		return notFound(), nil
	}
	if err != nil {
		return answer{}, err
	}
	st := Status{ConfirmationCode: code, RequestID: req.ID, Kind: req.Kind, Status: req.Status, CreatedAt: req.CreatedAt, UpdatedAt: req.UpdatedAt, CompletedAt: req.ClosedAt}
	if at, ok := req.Deadlines[request.DeadlineCompleteBy]; ok {
		st.CompleteBy = &at
	}
	for _, n := range req.Progress {
		st.ItemsDeleted += n
	}
	if wantsJSON {
		return jsonAnswer(http.StatusOK, st), nil
	}
	return page(http.StatusOK, "status", st), nil
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
{{define "notfound"}}{{template "head"}}<p>Заявка с таким кодом не найдена. / No deletion has this confirmation code.</p></body></html>{{end}}
`))

func page(status int, name string, data any) answer {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return problem(http.StatusInternalServerError, "")
	}
	return answer{status: status, contentType: "text/html; charset=utf-8", body: b.Bytes()}
}
