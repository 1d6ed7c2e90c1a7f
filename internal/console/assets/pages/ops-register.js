// The privacy officer's register: every request of every account, nearest deadline first, with
// the business days left of its next deadline, the counts that need attention, filters, and the
// CSV exports of the register and of the journal of destruction (GET /v1/ops/requests…).
import { Lethe } from "../console.js";
import { label, statusText } from "../requestlabels.js";

const STATUSES = ["received", "awaiting_verification", "scheduled", "soft_deleted", "hard_deleting",
  "awaiting_backup_rotation", "held", "failed", "completed", "cancelled", "declined"];
const KINDS = ["account_deletion", "bot_deletion", "connection_wipe", "end_user_filter", "end_user_deletion",
  "channel_identity_deletion", "inbox_message_deletion", "activity_log_deletion", "end_customer_request"];

// download fetches an export with the bearer token and hands it to the browser as a file.
export async function download(ctx, path, name) {
  const text = await ctx.api(path, { headers: { Accept: "text/csv" } });
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = ctx.el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export default {
  route: "#/ops/register",
  side: "ops",
  roles: ["operator"],
  title: { en: "Register", ru: "Реестр заявок" },
  strings: {
    en: {
      intro: "Every deletion request of every account, the nearest deadline first. Days are business days on the Russian production calendar.",
      overdue: "Overdue", escalated: "Awaiting your decision", failed: "Failed", dueWithin5: "Due within 5 business days",
      filters: "Filters", status: "Status", openStatuses: "Open (all open statuses)", kind: "Kind", anyKind: "Any kind",
      account: "Account id", onlyOverdue: "Only overdue", closedFrom: "Closed from", closedTo: "Closed to",
      closedHint: "Completed, cancelled and declined requests are listed for the days they were closed: the last 90 days unless you set the dates (at most 366 days).", dueWithin: "Due within (business days)", apply: "Apply",
      id: "Request", accountCol: "Account", kindCol: "Kind", statusCol: "Status", next: "Next deadline", daysLeft: "Business days left",
      flags: "Attention", none: "No request matches.", more: "Show more", exportRegister: "Export the register (CSV)",
      journal: "Journal of destruction (Order 179)", from: "From", to: "To", exportJournal: "Export the journal (CSV)",
      flagEscalated: "escalated", flagFailed: "failed", noDeadline: "—",
    },
    ru: {
      intro: "Все заявки на удаление по всем аккаунтам, ближайший срок — первым. Дни — рабочие, по производственному календарю РФ.",
      overdue: "Просрочено", escalated: "Ждут вашего решения", failed: "Сбой", dueWithin5: "Срок в ближайшие 5 рабочих дней",
      filters: "Фильтры", status: "Статус", openStatuses: "Открытые (все открытые статусы)", kind: "Тип", anyKind: "Любой тип",
      account: "Id аккаунта", onlyOverdue: "Только просроченные", closedFrom: "Закрыты с", closedTo: "Закрыты по",
      closedHint: "Выполненные, отменённые и отклонённые заявки показываются по дням закрытия: за последние 90 дней, если даты не заданы (не больше 366 дней).", dueWithin: "Срок в пределах (рабочих дней)", apply: "Применить",
      id: "Заявка", accountCol: "Аккаунт", kindCol: "Тип", statusCol: "Статус", next: "Ближайший срок", daysLeft: "Осталось рабочих дней",
      flags: "Внимание", none: "Нет подходящих заявок.", more: "Показать ещё", exportRegister: "Выгрузить реестр (CSV)",
      journal: "Журнал уничтожения (приказ № 179)", from: "С", to: "По", exportJournal: "Выгрузить журнал (CSV)",
      flagEscalated: "эскалация", flagFailed: "сбой", noDeadline: "—",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    root.append(el("h1", {}, ctx.page.title[ctx.lang] || ctx.page.title.en), el("p", {}, t("intro")));

    const cards = el("div", { class: "cards", "data-testid": "ops-summary" });
    root.append(cards);
    try {
      const s = await ctx.api("/v1/ops/requests/summary");
      for (const [key, n] of [["overdue", s.overdue], ["escalated", s.escalated], ["failed", s.failed], ["dueWithin5", s.dueWithin5]]) {
        cards.append(el("div", { class: "card" + (n > 0 && key !== "dueWithin5" ? " attention" : ""), "data-testid": "ops-summary-" + key },
          el("h3", {}, t(key)), el("p", { class: "big" }, String(n))));
      }
    } catch (err) {
      cards.append(Lethe.errorBox(err, ctx.page));
    }

    const p = ctx.params;
    const status = el("select", { id: "reg-status" }, el("option", { value: "" }, t("openStatuses")),
      STATUSES.map((s) => el("option", { value: s }, statusText(ctx.lang, s, true))));
    status.value = p.get("status") || "";
    const kind = el("select", { id: "reg-kind" }, el("option", { value: "" }, t("anyKind")), KINDS.map((k) => el("option", { value: k }, label(ctx.lang, "kind_" + k))));
    kind.value = p.get("kind") || "";
    const account = el("input", { id: "reg-account", maxlength: "200", value: p.get("account") || "" });
    const overdue = el("input", { id: "reg-overdue", type: "checkbox", checked: p.get("overdue") === "true" });
    const due = el("input", { id: "reg-due", type: "number", min: "0", max: "365", inputmode: "numeric", value: p.get("dueWithin") || "" });
    const closedFrom = el("input", { id: "reg-closed-from", type: "date", value: p.get("closedFrom") || "" });
    const closedTo = el("input", { id: "reg-closed-to", type: "date", value: p.get("closedTo") || "" });
    const query = () => {
      const q = new URLSearchParams();
      if (status.value) q.set("status", status.value);
      if (kind.value) q.set("kind", kind.value);
      if (account.value.trim()) q.set("account", account.value.trim());
      if (overdue.checked) q.set("overdue", "true");
      if (due.value !== "") q.set("dueWithin", due.value);
      if (closedFrom.value) q.set("closedFrom", closedFrom.value);
      if (closedTo.value) q.set("closedTo", closedTo.value);
      return q;
    };
    const form = el("form", { class: "panel", "aria-label": t("filters") },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "reg-status" }, t("status")), status),
        el("div", {}, el("label", { for: "reg-kind" }, t("kind")), kind),
        el("div", {}, el("label", { for: "reg-account" }, t("account")), account),
        el("div", {}, el("label", { for: "reg-due" }, t("dueWithin")), due),
        el("div", {}, el("label", { for: "reg-closed-from" }, t("closedFrom")), closedFrom),
        el("div", {}, el("label", { for: "reg-closed-to" }, t("closedTo")), closedTo),
        el("div", {}, el("label", { class: "inline", for: "reg-overdue" }, overdue, t("onlyOverdue"))),
        el("div", {}, el("button", { type: "submit" }, t("apply")))),
      el("p", { class: "notice" }, t("closedHint")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      ctx.navigate("#/ops/register?" + query());
    });
    const exportBtn = el("button", { type: "button", class: "secondary", "data-testid": "export-register" }, t("exportRegister"));
    exportBtn.addEventListener("click", () => download(ctx, "/v1/ops/exports/requests.csv?" + query(), "requests.csv").catch((err) => exportBtn.after(Lethe.errorBox(err, ctx.page))));
    root.append(form, el("p", {}, exportBtn));

    const tbody = el("tbody");
    const more = el("p");
    const list = el("section", { "aria-live": "polite" });
    root.append(list);
    const load = async (cursor) => {
      const q = query();
      q.set("limit", "50");
      if (cursor) q.set("cursor", cursor);
      const page = await ctx.api("/v1/ops/requests?" + q);
      for (const r of page.items) tbody.append(row(r));
      more.replaceChildren();
      if (page.nextCursor) more.append(el("button", { type: "button", class: "secondary", onclick: () => load(page.nextCursor) }, t("more")));
      return page;
    };
    try {
      const first = await load("");
      if (first.items.length === 0) list.append(el("p", { "data-testid": "register-none" }, t("none")));
      else list.append(el("div", { class: "scroll" }, el("table", { "data-testid": "register" },
        el("thead", {}, el("tr", {}, ["id", "accountCol", "kindCol", "statusCol", "next", "daysLeft", "flags"].map((k) => el("th", { scope: "col" }, t(k))))),
        tbody)), more);
    } catch (err) {
      list.append(Lethe.errorBox(err, ctx.page));
    }

    function row(r) {
      const n = r.nextDeadline;
      const flags = [];
      if (r.escalated && !r.decision) flags.push(el("span", { class: "badge warn" }, t("flagEscalated")));
      if (r.status === "failed") flags.push(el("span", { class: "badge bad" }, t("flagFailed")));
      return el("tr", { "data-testid": "register-row-" + r.id },
        el("td", {}, el("a", { href: "#/ops/requests/" + encodeURIComponent(r.id) }, r.id)),
        el("td", {}, r.accountId),
        el("td", {}, label(ctx.lang, "kind_" + r.kind)),
        el("td", {}, statusText(ctx.lang, r.status, true)),
        el("td", {}, n ? `${label(ctx.lang, "deadline_" + n.name)} ${Lethe.fmtDate(n.at)}` : t("noDeadline")),
        el("td", { class: n && n.overdue ? "overdue" : "" }, n ? String(n.businessDaysLeft) : t("noDeadline")),
        el("td", {}, flags));
    }

    // The journal of destruction for a date range: what an inspector asks for.
    const today = new Date().toISOString().slice(0, 10);
    const monthAgo = new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10);
    const from = el("input", { id: "journal-from", type: "date", value: monthAgo, required: true });
    const to = el("input", { id: "journal-to", type: "date", value: today, required: true });
    const jform = el("form", { class: "panel" },
      el("h2", {}, t("journal")),
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "journal-from" }, t("from")), from),
        el("div", {}, el("label", { for: "journal-to" }, t("to")), to),
        el("div", {}, el("button", { type: "submit", class: "secondary", "data-testid": "export-journal" }, t("exportJournal")))));
    jform.addEventListener("submit", async (e) => {
      e.preventDefault();
      jform.querySelector(".error")?.remove();
      try {
        await download(ctx, `/v1/ops/exports/journal.csv?from=${from.value}&to=${to.value}`, `journal-${from.value}-${to.value}.csv`);
      } catch (err) {
        jform.append(Lethe.errorBox(err, ctx.page));
      }
    });
    root.append(jform);
  },
};
