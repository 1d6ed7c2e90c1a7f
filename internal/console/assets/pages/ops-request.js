// One request as the privacy officer sees it (GET /v1/ops/requests/{id}): its deadlines in business
// days, history, progress, acts and failure; the decision on an escalated end-customer request, and
// the retry of a failed one. The escalation mail links here. An end-customer request shows whether
// its requester proved the chat is theirs, and once escalated the officer may ask for that proof.
import { Lethe } from "../console.js";
import { label, statusText, sourceText, actorText, scopeText, noteText, verificationBox } from "../requestlabels.js";

export default {
  route: "#/ops/requests/",
  side: "ops",
  roles: ["operator"],
  title: { en: "Request", ru: "Заявка" },
  strings: {
    en: {
      back: "Back to the register", account: "Account", kind: "Kind", status: "Status", source: "Source", scope: "Scope",
      created: "Received", deadlines: "Deadlines", deadline: "Deadline", due: "Due", daysLeft: "Business days left", state: "State",
      met: "met", overdue: "overdue", pending: "open", history: "History", at: "When", actor: "Who", note: "Note",
      progress: "Destroyed so far", category: "Category", count: "Items", evidence: "Acts of destruction", noEvidence: "No act yet.",
      failure: "Why it failed", decisionTitle: "Decide this end-customer request",
      decisionIntro: "The bot owner did not answer within 10 business days. Your decision is told to the requester as the owner's would be, and recorded under your name.",
      notEscalated: "The bot owner may still decide until the escalation date; you decide after it.",
      approve: "Approve: delete this person's data", reason: "Reason for declining (told to the requester)", decline: "Decline with this reason",
      confirmApproveTitle: "Approve and delete?",
      confirmApprove: (r, id) => `This destroys the data of end user ${id} on bot ${r.scope.botId} for good, and tells the requester.`,
      candidates: "The identifier matched several end users: the one whose data is deleted",
      confirmDeclineTitle: "Decline the request?",
      confirmDecline: "Nothing is deleted; the requester is told the reason you gave.",
      decided: (d, who) => `${d.approved ? "Approved" : "Declined"} by ${who}${d.reason ? ": " + d.reason : ""}`,
      retryTitle: "Retry", retryIntro: "The request goes back to where it failed and its workflow continues from the last checkpoint: nothing destroyed is counted twice or missed.",
      retry: "Retry this request", confirmRetryTitle: "Retry the failed request?",
      confirmRetry: "Its deletion continues where it stopped, destroying the rest of its scope.", retried: "Retried: running again.",
    },
    ru: {
      back: "К реестру", account: "Аккаунт", kind: "Тип", status: "Статус", source: "Источник", scope: "Область",
      created: "Получена", deadlines: "Сроки", deadline: "Срок", due: "Дата", daysLeft: "Осталось рабочих дней", state: "Состояние",
      met: "соблюдён", overdue: "просрочен", pending: "идёт", history: "История", at: "Когда", actor: "Кто", note: "Примечание",
      progress: "Уничтожено", category: "Категория", count: "Записей", evidence: "Акты об уничтожении", noEvidence: "Актов пока нет.",
      failure: "Причина сбоя", decisionTitle: "Решение по запросу конечного клиента",
      decisionIntro: "Владелец бота не ответил за 10 рабочих дней. Ваше решение будет сообщено заявителю так же, как решение владельца, и записано под вашим именем.",
      notEscalated: "Владелец бота может решить до даты эскалации; после неё решаете вы.",
      approve: "Одобрить: удалить данные этого человека", reason: "Причина отказа (сообщается заявителю)", decline: "Отказать с этой причиной",
      confirmApproveTitle: "Одобрить и удалить?",
      confirmApprove: (r, id) => `Данные конечного пользователя ${id} в боте ${r.scope.botId} будут уничтожены безвозвратно, заявитель получит уведомление.`,
      candidates: "Под описание подходят несколько конечных пользователей: чьи данные удалить",
      confirmDeclineTitle: "Отказать в запросе?",
      confirmDecline: "Ничего не удаляется; заявителю сообщается указанная вами причина.",
      decided: (d, who) => `${d.approved ? "Одобрено" : "Отказано"}: ${who}${d.reason ? " — " + d.reason : ""}`,
      retryTitle: "Повтор", retryIntro: "Заявка вернётся туда, где произошёл сбой, и продолжится с последней контрольной точки: ничего уничтоженного не будет пропущено или посчитано дважды.",
      retry: "Повторить заявку", confirmRetryTitle: "Повторить заявку со сбоем?",
      confirmRetry: "Удаление продолжится с места остановки и уничтожит оставшиеся данные области.", retried: "Повторено: заявка снова выполняется.",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    const id = ctx.rest;
    const r = await ctx.api("/v1/ops/requests/" + encodeURIComponent(id));
    root.append(el("p", {}, el("a", { href: "#/ops/register" }, t("back"))),
      el("h1", {}, `${ctx.page.title[ctx.lang] || ctx.page.title.en} ${r.id}`));
    const lang = ctx.lang;
    root.append(el("dl", { class: "facts", "data-testid": "request-facts" },
      [["account", r.accountId], ["kind", label(lang, "kind_" + r.kind)], ["status", statusText(lang, r.status, true)],
        ["source", sourceText(lang, r.source)], ["scope", scopeText(lang, r.scope)], ["created", Lethe.fmtDate(r.createdAt)]]
        .flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", { "data-testid": "fact-" + k }, v)])));
    if (r.failure) root.append(el("div", { class: "error", "data-testid": "failure" }, `${t("failure")}: ${r.failure.cause} (${Lethe.fmtDate(r.failure.at)})`));
    if (r.decision) root.append(el("p", { class: "ok", "data-testid": "decision" }, t("decided")(r.decision, actorText(lang, r.decision.by))));

    if (r.kind === "end_customer_request") {
      const open = r.status === "awaiting_verification" && !r.decision && r.escalated;
      const ask = open ? () => ctx.api(`/v1/ops/requests/${encodeURIComponent(r.id)}/verification`, { method: "POST",
        headers: { "Idempotency-Key": crypto.randomUUID() } }) : null;
      root.append(verificationBox(el, lang, r, ask, (e) => Lethe.errorBox(e, ctx.page)));
    }
    const actions = el("section", { "aria-live": "polite" });
    root.append(actions);
    if (r.kind === "end_customer_request" && r.status === "awaiting_verification" && !r.decision) decision();
    if (r.status === "failed") retry();

    root.append(el("h2", {}, t("deadlines")), el("div", { class: "scroll" }, el("table", { "data-testid": "deadlines" },
      el("thead", {}, el("tr", {}, ["deadline", "due", "daysLeft", "state"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, r.deadlines.map((d) => el("tr", {},
        el("td", {}, label(lang, "deadline_" + d.name)), el("td", {}, Lethe.fmtDate(d.at)),
        el("td", { class: d.overdue ? "overdue" : "" }, String(d.businessDaysLeft)),
        el("td", {}, d.met ? t("met") : d.overdue ? t("overdue") : t("pending"))))))));

    const progress = Object.entries(r.progress || {});
    if (progress.length) {
      root.append(el("h2", {}, t("progress")), el("table", { "data-testid": "progress" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("category")), el("th", { scope: "col" }, t("count")))),
        el("tbody", {}, progress.map(([c, n]) => el("tr", {}, el("td", {}, label(lang, "cat_" + c)), el("td", {}, String(n)))))));
    }
    root.append(el("h2", {}, t("evidence")), r.evidence.length
      ? el("ul", { "data-testid": "evidence" }, r.evidence.map((a) => el("li", {}, a)))
      : el("p", { class: "notice" }, t("noEvidence")));

    root.append(el("h2", {}, t("history")), el("div", { class: "scroll" }, el("table", { "data-testid": "history" },
      el("thead", {}, el("tr", {}, ["at", "status", "actor", "note"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, r.history.map((e) => el("tr", {},
        el("td", {}, Lethe.fmtDate(e.at)), el("td", {}, statusText(lang, e.status, true)), el("td", {}, actorText(lang, e.actor)), el("td", {}, noteText(lang, e.note))))))));

    function decision() {
      const panel = el("div", { class: "panel", "data-testid": "decision-panel" }, el("h2", {}, t("decisionTitle")));
      panel.append(el("p", {}, r.escalated ? t("decisionIntro") : t("notEscalated")));
      const approve = el("button", { type: "button", class: "danger", "data-testid": "approve" }, t("approve"));
      const reason = el("textarea", { id: "decline-reason", rows: "3", maxlength: "2000" });
      const decline = el("button", { type: "button", class: "secondary", "data-testid": "decline" }, t("decline"));
      const send = async (body, title, message, action) => {
        if (!(await ctx.confirm({ title, message, action }))) return;
        approve.disabled = decline.disabled = true;
        panel.querySelector(".error")?.remove();
        try {
          await ctx.api(`/v1/ops/requests/${encodeURIComponent(r.id)}/decision`, { method: "POST", body });
          ctx.navigate("#/ops/requests/" + encodeURIComponent(r.id) + "?t=" + Date.now());
        } catch (err) {
          approve.disabled = decline.disabled = false;
          panel.append(Lethe.errorBox(err, ctx.page));
        }
      };
      // Several candidates: the officer picks the one whose data goes, as the owner would.
      const several = (r.candidates || []).length > 1;
      const pick = el("select", { id: "decision-candidate", "data-testid": "candidate" }, ...(r.candidates || []).map((id) => el("option", { value: id }, id)));
      approve.addEventListener("click", () => {
        const body = several ? { approve: true, endUserId: pick.value } : { approve: true };
        send(body, t("confirmApproveTitle"), t("confirmApprove")(r, several ? pick.value : r.scope.endUserId), t("approve"));
      });
      if (several) panel.append(el("label", { for: "decision-candidate" }, t("candidates")), pick);
      decline.addEventListener("click", () => {
        if (!reason.value.trim()) {
          reason.setCustomValidity(t("reason"));
          reason.reportValidity();
          return;
        }
        reason.setCustomValidity("");
        send({ approve: false, reason: reason.value.trim() }, t("confirmDeclineTitle"), t("confirmDecline"), t("decline"));
      });
      panel.append(el("p", {}, approve), el("label", { for: "decline-reason" }, t("reason")), reason, el("p", {}, decline));
      actions.append(panel);
    }

    function retry() {
      const panel = el("div", { class: "panel", "data-testid": "retry-panel" }, el("h2", {}, t("retryTitle")), el("p", {}, t("retryIntro")));
      const btn = el("button", { type: "button", class: "danger", "data-testid": "retry" }, t("retry"));
      btn.addEventListener("click", async () => {
        if (!(await ctx.confirm({ title: t("confirmRetryTitle"), message: t("confirmRetry"), action: t("retry") }))) return;
        btn.disabled = true;
        panel.querySelector(".error")?.remove();
        try {
          await ctx.api(`/v1/ops/requests/${encodeURIComponent(r.id)}/retry`, { method: "POST" });
          panel.replaceChildren(el("p", { class: "ok", "data-testid": "retried" }, t("retried")));
        } catch (err) {
          btn.disabled = false;
          panel.append(Lethe.errorBox(err, ctx.page));
        }
      });
      panel.append(btn);
      actions.append(panel);
    }
  },
};
