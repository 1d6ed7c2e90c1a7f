// Activity logs (seed: "If you have the Account Admin role, you can select and delete activity
// logs within your organisation"): the team's admin actions in a date range; delete the selected
// entries, or every entry of the range.
import { Lethe } from "../console.js";
import { count, plural } from "../requestlabels.js";
import { isoDay, startOf, endOf } from "../days.js";

const EN = { entries: { one: "entry", other: "entries" }, logEntries: { one: "activity-log entry", other: "activity-log entries" } };
const RU = { entries: { one: "запись", few: "записи", many: "записей" }, entriesAcc: { one: "запись", few: "записи", many: "записей" } };

const POLL_MS = 1000;

export default {
  route: "#/activity",
  side: "account",
  roles: ["owner", "account_admin"],
  title: { en: "Activity logs", ru: "Журнал действий" },
  strings: {
    en: {
      intro: "What your team's admins did in the account. Select entries, or take a whole date range, and delete them; deleting is irrevocable.",
      from: "Start date", to: "End date", show: "Show entries", none: "No entries in this range.",
      selectAll: "Select every entry shown", select: (e) => `Select the entry: ${e}`,
      at: "Time", who: "Who", action: "Action", target: "Target", more: "Show more",
      deleteSelected: (n) => `Delete ${n} selected ${plural(n, EN.entries, "en")}`,
      deleteRange: (n, a, b, all) => all ? (n === 1 ? `Delete the 1 entry from ${a} to ${b}` : `Delete all ${count("en", n, EN.entries)} from ${a} to ${b}`) : `Delete every entry from ${a} to ${b}`,
      confirmTitle: "Delete these activity-log entries for good?",
      confirmSelected: (n) => `This deletes ${count("en", n, EN.logEntries)}. It cannot be undone.`,
      confirmRange: (n, a, b, all) => (all ? (n === 1 ? "This deletes the 1 activity-log entry" : `This deletes all ${count("en", n, EN.logEntries)}`) : "This deletes every activity-log entry") + ` from ${a} to ${b}. It cannot be undone.`,
      deleted: (n) => `Deleted ${count("en", n, EN.entries)}.`, scheduled: "The deletion runs; the list updates when it is done.",
      badRange: "The end date must not be before the start date.",
    },
    ru: {
      intro: "Что администраторы вашей команды делали в аккаунте. Выберите записи или весь период и удалите их; удаление необратимо.",
      from: "Дата начала", to: "Дата окончания", show: "Показать записи", none: "За этот период записей нет.",
      selectAll: "Выбрать все показанные записи", select: (e) => `Выбрать запись: ${e}`,
      at: "Время", who: "Кто", action: "Действие", target: "Объект", more: "Показать ещё",
      deleteSelected: (n) => `Удалить ${n} ${plural(n, { one: "выбранную", few: "выбранные", many: "выбранных" }, "ru")} ${plural(n, RU.entriesAcc, "ru")}`,
      deleteRange: (n, a, b, all) => all ? `Удалить ${count("ru", n, RU.entriesAcc)} с ${a} по ${b}` : `Удалить все записи с ${a} по ${b}`,
      confirmTitle: "Удалить эти записи журнала безвозвратно?",
      confirmSelected: (n) => `Будет удалено: ${count("ru", n, RU.entries)} журнала. Отменить это нельзя.`,
      confirmRange: (n, a, b, all) => (all ? `Будет удалено: ${count("ru", n, RU.entries)} журнала` : "Будут удалены все записи журнала") + ` с ${a} по ${b}. Отменить это нельзя.`,
      deleted: (n) => `Удалено: ${count("ru", n, RU.entries)}.`, scheduled: "Удаление идёт; список обновится, когда оно завершится.",
      badRange: "Дата окончания не может быть раньше даты начала.",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    const today = new Date();
    const from = el("input", { id: "logs-from", type: "date", value: isoDay(new Date(today.getTime() - 7 * 24 * 3600 * 1000)), required: true });
    const to = el("input", { id: "logs-to", type: "date", value: isoDay(today), required: true });
    const list = el("section", { "aria-live": "polite" });
    const status = el("div", { role: "status" });
    const form = el("form", { class: "panel" },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "logs-from" }, t("from")), from),
        el("div", {}, el("label", { for: "logs-to" }, t("to")), to),
        el("div", {}, el("button", { type: "submit" }, t("show")))));
    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")), form, status, list);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      status.replaceChildren();
      show().catch((err) => list.replaceChildren(Lethe.errorBox(err, ctx.page)));
    });

    let generation = 0;
    async function show() {
      const mine = ++generation;
      if (to.value < from.value) {
        list.replaceChildren(el("p", { class: "error", role: "alert" }, t("badRange")));
        return;
      }
      const range = { from: startOf(from.value), to: endOf(to.value) };
      const days = [Lethe.fmtDate(range.from, false), Lethe.fmtDate(range.to, false)];
      const boxes = [];
      const tbody = el("tbody");
      const more = el("p");
      let complete = false;
      const delSel = el("button", { type: "button", class: "danger", "data-testid": "logs-delete-selected", disabled: true });
      const delRange = el("button", { type: "button", class: "danger", "data-testid": "logs-delete-range" });
      const paint = () => {
        const n = boxes.filter((b) => b.checked).length;
        delSel.textContent = t("deleteSelected")(n);
        delSel.disabled = n === 0;
        delRange.textContent = t("deleteRange")(boxes.length, days[0], days[1], complete);
      };
      const all = el("input", { type: "checkbox", id: "logs-all", onchange: () => { boxes.forEach((b) => { b.checked = all.checked; }); paint(); } });
      const load = async (cursor) => {
        const q = new URLSearchParams({ ...range, limit: "100" });
        if (cursor) q.set("cursor", cursor);
        const page = await ctx.api("/v1/activity-logs?" + q);
        if (mine !== generation) return null;
        for (const e of page.items) {
          const what = `${e.action}${e.target ? " " + e.target : ""}, ${Lethe.fmtDate(e.at)}`;
          const box = el("input", { type: "checkbox", value: e.id, "aria-label": t("select")(what), "data-testid": "logs-select-" + e.id, onchange: paint });
          boxes.push(box);
          tbody.append(el("tr", { "data-testid": "logs-row-" + e.id }, el("td", {}, box), el("td", {}, Lethe.fmtDate(e.at)),
            el("td", {}, e.actorName || e.actorSub), el("td", {}, e.action), el("td", {}, e.target || "")));
        }
        complete = !page.nextCursor;
        more.replaceChildren();
        if (page.nextCursor) more.append(el("button", { type: "button", class: "secondary", onclick: () => load(page.nextCursor).then(paint) }, t("more")));
        paint();
        return page;
      };
      list.replaceChildren(el("p", { class: "notice" }, t("loading")));
      const first = await load("");
      if (!first) return;
      if (first.items.length === 0) {
        list.replaceChildren(el("p", { "data-testid": "logs-none" }, t("none")));
        return;
      }
      list.replaceChildren(el("div", { class: "row" }, delSel, delRange),
        el("div", { class: "scroll" }, el("table", { "data-testid": "logs-table" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, el("label", { class: "inline", for: "logs-all" }, all, el("span", { class: "sr" }, t("selectAll")))),
            ["at", "who", "action", "target"].map((k) => el("th", { scope: "col" }, t(k))))), tbody)), more);

      delSel.addEventListener("click", async () => {
        const ids = boxes.filter((b) => b.checked).map((b) => b.value);
        if (await ctx.confirm({ title: t("confirmTitle"), message: t("confirmSelected")(ids.length), action: t("deleteSelected")(ids.length) })) {
          await remove({ ids }, ids.length);
        }
      });
      delRange.addEventListener("click", async () => {
        if (await ctx.confirm({ title: t("confirmTitle"), message: t("confirmRange")(boxes.length, days[0], days[1], complete),
          action: t("deleteRange")(boxes.length, days[0], days[1], complete) })) {
          await remove(range, boxes.length);
        }
      });
    }

    // remove deletes by ids or by range: a small selection is done at once (200), a large one runs
    // as a request (202), which is followed until it completes; then the list is shown again.
    async function remove(body, n) {
      try {
        const req = await ctx.api("/v1/activity-logs/deletions", { method: "POST", body });
        if (req.status === "completed") {
          status.replaceChildren(el("p", { class: "ok", "data-testid": "logs-deleted" }, t("deleted")(n)));
          await show();
          return;
        }
        status.replaceChildren(el("p", { class: "notice" }, t("scheduled")));
        const tick = async () => {
          if (!document.body.contains(status)) return;
          const r = await ctx.api("/v1/deletion-requests/" + encodeURIComponent(req.id));
          if (r.status === "completed") {
            status.replaceChildren(el("p", { class: "ok", "data-testid": "logs-deleted" }, t("deleted")(n)));
            await show();
            return;
          }
          setTimeout(tick, POLL_MS);
        };
        setTimeout(tick, POLL_MS);
      } catch (err) {
        status.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    }

    await show();
  },
};
