// Privacy (seed: "My Account > Privacy"): pick the bot users to delete by bot ("All bots") and by
// the date of their first conversation (the last week by default), see who they are and what a
// deletion would destroy, delete them after one confirmation that repeats the counts, then watch
// the request until it is done and the confirmation mail is on its way.
import { Lethe } from "../console.js";
import { count } from "../requestlabels.js";
import { isoDay, startOf, endOf } from "../days.js";

const EN = { users: { one: "bot user", other: "bot users" }, conversations: { one: "conversation", other: "conversations" }, messages: { one: "message", other: "messages" } };
// Russian: the counts as a list (nominative), and whom the button deletes (accusative, animate).
const RU = { users: { one: "пользователь", few: "пользователя", many: "пользователей" }, usersAcc: { one: "пользователя", few: "пользователей", many: "пользователей" },
  conversations: { one: "диалог", few: "диалога", many: "диалогов" }, messages: { one: "сообщение", few: "сообщения", many: "сообщений" } };

const POLL_MS = 1000;



export default {
  route: "#/privacy",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin"],
  title: { en: "Privacy", ru: "Конфиденциальность" },
  strings: {
    en: {
      intro: "Delete the personal data of the people who talk to your bots: their profiles, conversations and inbox messages. Analytics are kept: they are anonymous aggregates.",
      irrevocable: "Deleting is irrevocable: once done, the data cannot be restored.",
      filters: "Filters", bot: "Bot", allBots: "All bots", from: "Start date (first conversation)", to: "End date (first conversation)",
      show: "Show bot users", matching: "Bot users whose first conversation is in this range",
      none: "No bot users match these filters.", name: "Name", channel: "Channel", firstConversation: "First conversation",
      more: "Show more", previewHeading: "What the deletion destroys",
      counts: (p) => `${count("en", p.endUsers, EN.users)}, ${count("en", p.conversations, EN.conversations)}, ${count("en", p.messages, EN.messages)}, with their inbox messages and files`,
      deleteButton: (n) => `Delete ${count("en", n, EN.users)} and their conversations`,
      confirmTitle: (n) => (n === 1 ? "Delete this bot user for good?" : "Delete these bot users for good?"),
      confirmText: (p) => `This deletes ${count("en", p.endUsers, EN.users)}, ${count("en", p.conversations, EN.conversations)} and ${count("en", p.messages, EN.messages)}, with their profiles, inbox messages and files. It cannot be undone.`,
      confirmAction: (n) => `Delete ${count("en", n, EN.users)}`,
      started: "Deletion started", request: "Request", status: "Status",
      status_received: "received", status_hard_deleting: "deleting", status_completed: "done",
      status_awaiting_verification: "awaiting verification", status_scheduled: "scheduled", status_held: "held (legal hold)",
      status_cancelled: "cancelled", status_failed: "failed",
      cat_end_user_profile: "Bot users", cat_conversation: "Conversations", cat_message: "Messages", cat_inbox_message: "Inbox messages",
      done: (email) => `Done: every bot user of the preview is deleted. A confirmation mail is on its way to ${email}.`,
      noProgress: "The deletion runs; only account admins can follow its progress here. You will get a mail when it is done.",
      badRange: "The end date must not be before the start date.",
      again: "Show the filters' bot users again",
    },
    ru: {
      intro: "Удаление персональных данных людей, которые пишут вашим ботам: профили, диалоги и входящие сообщения. Аналитика сохраняется: это обезличенные сводные данные.",
      irrevocable: "Удаление необратимо: восстановить данные будет нельзя.",
      filters: "Фильтры", bot: "Бот", allBots: "Все боты", from: "Дата начала (первый диалог)", to: "Дата окончания (первый диалог)",
      show: "Показать пользователей", matching: "Пользователи ботов, чей первый диалог попадает в этот период",
      none: "Под эти фильтры не попал ни один пользователь.", name: "Имя", channel: "Канал", firstConversation: "Первый диалог",
      more: "Показать ещё", previewHeading: "Что будет удалено",
      counts: (p) => `${count("ru", p.endUsers, RU.users)}, ${count("ru", p.conversations, RU.conversations)}, ${count("ru", p.messages, RU.messages)}, а также их входящие сообщения и файлы`,
      deleteButton: (n) => `Удалить ${count("ru", n, RU.usersAcc)} и ${n === 1 ? "его" : "их"} диалоги`,
      confirmTitle: (n) => (n === 1 ? "Удалить этого пользователя безвозвратно?" : "Удалить этих пользователей безвозвратно?"),
      confirmText: (p) => `Будут удалены: ${count("ru", p.endUsers, RU.users)}, ${count("ru", p.conversations, RU.conversations)} и ${count("ru", p.messages, RU.messages)}, вместе с профилями, входящими сообщениями и файлами. Отменить это нельзя.`,
      confirmAction: (n) => `Удалить ${count("ru", n, RU.usersAcc)}`,
      started: "Удаление запущено", request: "Заявка", status: "Статус",
      status_received: "принята", status_hard_deleting: "идёт удаление", status_completed: "выполнено",
      status_awaiting_verification: "ждёт подтверждения", status_scheduled: "запланирована", status_held: "приостановлена (удержание)",
      status_cancelled: "отменена", status_failed: "ошибка",
      cat_end_user_profile: "Пользователи", cat_conversation: "Диалоги", cat_message: "Сообщения", cat_inbox_message: "Входящие сообщения",
      done: (email) => `Готово: все пользователи из предпросмотра удалены. Письмо-подтверждение отправлено на ${email}.`,
      noProgress: "Удаление идёт; следить за ним здесь могут только администраторы аккаунта. Когда оно завершится, придёт письмо.",
      badRange: "Дата окончания не может быть раньше даты начала.",
      again: "Снова показать пользователей по фильтрам",
    },
  },

  async render(root, ctx) {
    const { t, el, me } = ctx;
    const bots = me.bots.filter((b) => b.canDelete);
    const botName = Object.fromEntries(me.bots.map((b) => [b.id, b.name]));
    const today = new Date();
    const weekAgo = new Date(today.getTime() - 7 * 24 * 3600 * 1000);

    const botSel = el("select", { id: "privacy-bot", name: "bot" },
      el("option", { value: "" }, t("allBots")), bots.map((b) => el("option", { value: b.id }, b.name)));
    const from = el("input", { id: "privacy-from", type: "date", value: isoDay(weekAgo), required: true });
    const to = el("input", { id: "privacy-to", type: "date", value: isoDay(today), required: true });
    const results = el("section", { "aria-labelledby": "privacy-results-h" });
    const form = el("form", { class: "panel", "aria-label": t("filters") },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "privacy-bot" }, t("bot")), botSel),
        el("div", {}, el("label", { for: "privacy-from" }, t("from")), from),
        el("div", {}, el("label", { for: "privacy-to" }, t("to")), to),
        el("div", {}, el("button", { type: "submit" }, t("show")))));
    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")), el("p", { class: "notice" }, t("irrevocable")), form, results);

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      show().catch((err) => results.replaceChildren(Lethe.errorBox(err, ctx.page)));
    });

    // Only the latest listing paints: an earlier one still loading when the filters change is dropped.
    let generation = 0;
    async function show() {
      const mine = ++generation;
      results.replaceChildren(el("p", { class: "notice" }, t("loading")));
      if (to.value < from.value) {
        results.replaceChildren(el("p", { class: "error", role: "alert" }, t("badRange")));
        return;
      }
      const filters = { from: startOf(from.value), to: endOf(to.value) };
      if (botSel.value) filters.botId = botSel.value;
      const tbody = el("tbody");
      const table = el("div", { class: "scroll" }, el("table", { "data-testid": "privacy-end-users" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("name")), el("th", { scope: "col" }, t("bot")),
          el("th", { scope: "col" }, t("channel")), el("th", { scope: "col" }, t("firstConversation")))), tbody));
      const more = el("p");
      const load = async (cursor) => {
        const q = new URLSearchParams(filters);
        q.set("limit", "50");
        if (cursor) q.set("cursor", cursor);
        const page = await ctx.api("/v1/privacy/end-users?" + q);
        for (const u of page.items) {
          tbody.append(el("tr", {}, el("td", {}, u.displayName), el("td", {}, botName[u.botId] || u.botId),
            el("td", {}, u.channel), el("td", {}, Lethe.fmtDate(u.firstConversationAt))));
        }
        more.replaceChildren();
        if (page.nextCursor) {
          more.append(el("button", { type: "button", class: "secondary", onclick: () => load(page.nextCursor).catch((err) => more.replaceChildren(Lethe.errorBox(err, ctx.page))) }, t("more")));
        }
        return page;
      };
      const [first, preview] = await Promise.all([load(""), ctx.api("/v1/privacy/deletions/preview", { method: "POST", body: filters })]);
      if (mine !== generation) return;
      results.replaceChildren(el("h2", { id: "privacy-results-h" }, t("matching")));
      if (first.items.length === 0) {
        results.append(el("p", { "data-testid": "privacy-none" }, t("none")));
        return;
      }
      results.append(table, more);
      const del = el("button", { type: "button", class: "danger", "data-testid": "privacy-delete" }, t("deleteButton")(preview.endUsers));
      const after = el("div", { "aria-live": "polite" });
      results.append(el("section", { class: "panel", "aria-labelledby": "privacy-preview-h" },
        el("h2", { id: "privacy-preview-h" }, t("previewHeading")),
        el("p", { "data-testid": "privacy-counts" }, t("counts")(preview)), del), after);
      del.addEventListener("click", async () => {
        const ok = await ctx.confirm({ title: t("confirmTitle")(preview.endUsers), message: t("confirmText")(preview), action: t("confirmAction")(preview.endUsers) });
        if (!ok) return;
        del.disabled = true;
        try {
          const req = await ctx.api("/v1/privacy/deletions", { method: "POST", body: { previewToken: preview.previewToken },
            headers: { "Idempotency-Key": preview.previewToken.slice(0, 64) } });
          follow(req, preview, after);
        } catch (err) {
          del.disabled = false;
          after.replaceChildren(Lethe.errorBox(err, ctx.page));
        }
      });
    }

    // follow shows the request's status and progress per category until it closes.
    function follow(req, preview, box) {
      const status = el("strong", { "data-testid": "privacy-status" });
      const bars = el("div");
      box.replaceChildren(el("h2", {}, t("started")),
        el("p", {}, `${t("request")} `, el("code", {}, req.id), ` · ${t("status")}: `, status), bars);
      const totals = { end_user_profile: preview.endUsers, conversation: preview.conversations, message: preview.messages };
      const paint = (r) => {
        status.textContent = t("status_" + r.status);
        bars.replaceChildren();
        for (const [cat, total] of Object.entries(totals)) {
          const n = (r.progress || {})[cat] || 0;
          const id = "privacy-progress-" + cat;
          bars.append(el("div", {}, el("label", { for: id }, `${t("cat_" + cat)}: ${n} / ${total}`),
            el("progress", { id, max: String(Math.max(total, 1)), value: String(Math.min(n, total)) })));
        }
      };
      paint(req);
      const tick = async () => {
        if (!document.body.contains(box)) return; // the person left the screen
        try {
          const r = await ctx.api("/v1/deletion-requests/" + encodeURIComponent(req.id));
          paint(r);
          if (r.status === "completed") {
            box.append(el("p", { class: "ok", role: "status", "data-testid": "privacy-done" }, t("done")(me.email)),
              el("p", {}, el("button", { type: "button", class: "secondary", "data-testid": "privacy-again",
                onclick: () => show().catch((err) => results.replaceChildren(Lethe.errorBox(err, ctx.page))) }, t("again"))));
            return;
          }
          if (["cancelled", "failed", "held"].includes(r.status)) return;
        } catch (err) {
          if (err.status === 403) {
            box.append(el("p", { class: "notice" }, t("noProgress")));
            return;
          }
          box.append(Lethe.errorBox(err, ctx.page));
          return;
        }
        setTimeout(tick, POLL_MS);
      };
      setTimeout(tick, POLL_MS);
    }

    await show();
  },
};
