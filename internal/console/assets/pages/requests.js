// Requests (issue 17): the history of the account's deletion requests with their deadlines and
// days left, progress bars per category (done of the total counted when the deletion started) and
// the acts of destruction, opened as HTML or downloaded as HTML or JSON.
import { label, dueText, progressBars, whoDecided, useStyles } from "../requestlabels.js";

const STATUSES = ["received", "awaiting_verification", "scheduled", "soft_deleted", "cancelled", "hard_deleting",
  "awaiting_backup_rotation", "completed", "held", "declined", "failed"];
const CLOSED = new Set(["completed", "cancelled", "declined"]);

export default {
  route: "#/requests",
  side: "account",
  roles: ["owner", "account_admin"],
  title: { en: "Requests", ru: "Запросы" },
  strings: {
    en: {
      intro: "Every deletion request of the account, newest first: its status, its deadlines and what it destroyed.",
      status: "Status", any: "Any", show: "Show", more: "More requests", none: "No requests match.",
      requested: "Requested", closed: "Closed", source: "Source", deadlines: "Deadlines", progress: "Progress",
      nothingYet: "Nothing destroyed yet.", nothingDestroyed: "Nothing was destroyed.", history: "History", evidence: "Act of destruction",
      openAct: "Open the act", downloadHtml: "Download HTML", downloadJson: "Download JSON",
      actOf: (id) => `Act of destruction of request ${id}`, decision: "Decision",
      approved: "approved", declined: "declined", reason: "Reason", met: "met", late: "missed",
    },
    ru: {
      intro: "Все запросы на удаление данных аккаунта, сначала новые: статус, сроки и что удалено.",
      status: "Статус", any: "Любой", show: "Показать", more: "Ещё запросы", none: "Запросов нет.",
      requested: "Запрошено", closed: "Завершено", source: "Источник", deadlines: "Сроки", progress: "Ход удаления",
      nothingYet: "Пока ничего не удалено.", nothingDestroyed: "Ничего не удалено.", history: "История", evidence: "Акт об уничтожении",
      openAct: "Открыть акт", downloadHtml: "Скачать HTML", downloadJson: "Скачать JSON",
      actOf: (id) => `Акт об уничтожении по запросу ${id}`, decision: "Решение",
      approved: "одобрен", declined: "отклонён", reason: "Причина", met: "выполнено в срок", late: "срок пропущен",
    },
  },

  async render(root, ctx) {
    useStyles();
    const { el, t, lang, page, params } = ctx;
    root.append(el("h1", {}, page.title[lang] || page.title.en), el("p", {}, t("intro")));

    const status = el("select", { id: "rq-status", "data-testid": "status-filter" },
      el("option", { value: "" }, t("any")),
      ...STATUSES.map((s) => el("option", { value: s, selected: params.get("status") === s }, label(lang, "status_" + s))));
    const filter = el("form", { class: "row", role: "search" },
      el("div", {}, el("label", { for: "rq-status" }, t("status")), status),
      el("div", {}, el("button", { type: "submit", class: "secondary" }, t("show"))));
    filter.addEventListener("submit", (e) => {
      e.preventDefault();
      ctx.navigate("#/requests" + (status.value ? "?status=" + status.value : ""));
    });
    const list = el("div", { "data-testid": "request-list" });
    const more = el("button", { type: "button", class: "secondary", hidden: true, "data-testid": "more" }, t("more"));
    root.append(filter, list, more);

    let cursor = "";
    const load = async () => {
      const q = new URLSearchParams({ limit: "20" });
      if (params.get("status")) q.set("status", params.get("status"));
      if (cursor) q.set("cursor", cursor);
      const pg = await ctx.api("/v1/deletion-requests?" + q);
      for (const r of pg.items) list.append(card(r));
      if (!list.childElementCount) list.append(el("p", { class: "notice" }, t("none")));
      cursor = pg.nextCursor || "";
      more.hidden = !cursor;
    };
    window.Lethe.onMore(more, load, root, page);

    const card = (r) => {
      const closed = CLOSED.has(r.status);
      const head = el("h2", { id: `rq-${r.id}` }, label(lang, "kind_" + r.kind), " · ",
        el("span", { "data-testid": "request-status" }, label(lang, "status_" + r.status)));
      const box = el("article", { class: "panel", "aria-labelledby": `rq-${r.id}`, "data-testid": "request", dataset: { id: r.id, status: r.status } }, head);
      box.append(el("p", { class: "notice" },
        `${t("requested")}: ${window.Lethe.fmtDate(r.createdAt)}`,
        r.closedAt ? ` · ${t("closed")}: ${window.Lethe.fmtDate(r.closedAt)}` : "",
        ` · ${t("source")}: ${r.source} · ${r.id}`));

      // A cancelled or declined request destroyed nothing: its deadlines no longer mean anything.
      const names = r.status === "cancelled" || r.status === "declined" ? [] :
        Object.keys(r.deadlines || {}).sort((a, b) => new Date(r.deadlines[a]) - new Date(r.deadlines[b]));
      if (names.length) {
        const dl = el("dl", { class: "facts deadlines", "data-testid": "deadlines" });
        for (const n of names) {
          const at = r.deadlines[n];
          const due = closed && r.closedAt ? t(new Date(r.closedAt) <= new Date(at) ? "met" : "late") : dueText(lang, at, closed);
          dl.append(el("dt", {}, label(lang, "deadline_" + n)),
            el("dd", { dataset: { deadline: n } }, el("time", { datetime: at }, window.Lethe.fmtDate(at, false)), ` (${due})`));
        }
        box.append(el("h3", {}, t("deadlines")), dl);
      }

      box.append(el("h3", {}, t("progress")));
      box.append(progressBars(el, lang, r.progress, r.planned) || el("p", { class: "notice" }, t(closed ? "nothingDestroyed" : "nothingYet")));

      if (r.decision) {
        box.append(el("p", {}, `${t("decision")}: ${t(r.decision.approved ? "approved" : "declined")} (${whoDecided(t, r.decision.by, ctx.me)}, ${window.Lethe.fmtDate(r.decision.at)})`,
          r.decision.reason ? ` — ${t("reason")}: ${r.decision.reason}` : ""));
      }

      if ((r.evidence || []).length) box.append(evidence(r));

      const hist = el("details", {}, el("summary", {}, t("history")));
      const ol = el("ol", { class: "history" });
      for (const ev of r.history || []) {
        ol.append(el("li", {}, `${window.Lethe.fmtDate(ev.at)} — ${label(lang, "status_" + ev.status)} (${ev.actor})`, ev.note ? `: ${ev.note}` : ""));
      }
      hist.append(ol);
      box.append(hist);
      return box;
    };

    // evidence fetches the acts with the bearer token (a plain link would carry none): the HTML act
    // opens in a frame of the page, and either form can be saved.
    const evidence = (r) => {
      const sec = el("section", { class: "evidence", "data-testid": "evidence" }, el("h3", {}, t("evidence")));
      const frameBox = el("div");
      const fetchAct = async (accept) => {
        const headers = { Accept: accept, Authorization: "Bearer " + window.Lethe.token() };
        const resp = await fetch(`/v1/deletion-requests/${encodeURIComponent(r.id)}/evidence`, { headers });
        const text = await resp.text();
        if (!resp.ok) {
          let p = {};
          try { p = JSON.parse(text); } catch { p = { detail: text }; }
          throw Object.assign(new Error([p.title || `HTTP ${resp.status}`, p.detail].filter(Boolean).join(" — ")), { status: resp.status });
        }
        return text;
      };
      const save = (text, type, ext) => {
        const a = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: `act-${r.id}.${ext}` });
        document.body.append(a);
        a.click();
        a.remove();
      };
      const act = (label2, testid, fn) => {
        const b = el("button", { type: "button", class: "secondary", "data-testid": testid }, label2);
        b.addEventListener("click", async () => {
          b.disabled = true;
          try {
            await fn();
          } catch (err) {
            frameBox.replaceChildren(window.Lethe.errorBox(err, page));
          }
          b.disabled = false;
        });
        return b;
      };
      sec.append(el("div", { class: "row" },
        act(t("openAct"), "open-act", async () => {
          const html = await fetchAct("text/html");
          const title = typeof t("actOf") === "function" ? t("actOf")(r.id) : r.id;
          frameBox.replaceChildren(window.Lethe.actFrame(html, { title, "data-testid": "act-frame" }));
        }),
        act(t("downloadHtml"), "download-html", async () => save(await fetchAct("text/html"), "text/html", "html")),
        act(t("downloadJson"), "download-json", async () => save(await fetchAct("application/json"), "application/json", "json"))));
      sec.append(frameBox);
      return sec;
    };

    await load();
  },
};
