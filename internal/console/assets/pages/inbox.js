// Inbox (seed: "You can also delete a specific message from the Inbox module"): find a bot user,
// list their inbox messages, and delete one message with its attachments.
import { Lethe } from "../console.js";
import { count } from "../requestlabels.js";

const EN = { one: "attachment", other: "attachments" };
const RU = { one: "вложение", few: "вложения", many: "вложений" };

export default {
  route: "#/inbox",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin"],
  title: { en: "Inbox", ru: "Входящие" },
  strings: {
    en: {
      intro: "The messages people sent to your team through a bot. Find the person, then delete a single message and its attachments.",
      bot: "Bot", name: "Name", search: "Find", people: "Bot users", none: "No bot user of this bot has that name.",
      open: (n) => `Show the inbox of ${n}`, inboxOf: (n) => `Inbox of ${n}`, empty: "No inbox messages.",
      sent: "Sent", direction: "Direction", text: "Message", attachments: "Attachments", actions: "Actions",
      dir_in: "from the user", dir_out: "to the user", more: "Show more",
      deleteButton: (a) => a ? `Delete message and ${a === 1 ? "its attachment" : count("en", a, EN)}` : "Delete message",
      deleteLabel: (d) => `Delete the message sent ${d}`,
      confirmTitle: "Delete this message for good?",
      confirmText: (n, d, a) => `This deletes the message ${n} exchanged on ${d}` + (a ? (a === 1 ? " and its attachment" : ` and its ${count("en", a, EN)}`) : "") + ". It cannot be undone.",
      deleted: "Message deleted.",
    },
    ru: {
      intro: "Сообщения, которые люди прислали вашей команде через бота. Найдите человека и удалите отдельное сообщение вместе с вложениями.",
      bot: "Бот", name: "Имя", search: "Найти", people: "Пользователи бота", none: "У этого бота нет пользователя с таким именем.",
      open: (n) => `Показать входящие: ${n}`, inboxOf: (n) => `Входящие: ${n}`, empty: "Входящих сообщений нет.",
      sent: "Отправлено", direction: "Направление", text: "Сообщение", attachments: "Вложения", actions: "Действия",
      dir_in: "от пользователя", dir_out: "пользователю", more: "Показать ещё",
      deleteButton: (a) => a ? `Удалить сообщение и ${count("ru", a, RU)}` : "Удалить сообщение",
      deleteLabel: (d) => `Удалить сообщение от ${d}`,
      confirmTitle: "Удалить это сообщение безвозвратно?",
      confirmText: (n, d, a) => `Будет удалено сообщение переписки с пользователем ${n} от ${d}` + (a ? ` и ${a === 1 ? "его вложение" : "его " + count("ru", a, RU)}` : "") + ". Отменить это нельзя.",
      deleted: "Сообщение удалено.",
    },
  },

  async render(root, ctx) {
    const { t, el, me } = ctx;
    const bots = me.bots.filter((b) => b.canDelete);
    const botSel = el("select", { id: "inbox-bot" }, bots.map((b) => el("option", { value: b.id }, b.name)));
    const name = el("input", { id: "inbox-name", type: "search", required: true, maxlength: "200", autocomplete: "off" });
    const people = el("section", { "aria-live": "polite" });
    const messages = el("section", { "aria-live": "polite" });
    const form = el("form", { class: "panel", role: "search" },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "inbox-bot" }, t("bot")), botSel),
        el("div", {}, el("label", { for: "inbox-name" }, t("name")), name),
        el("div", {}, el("button", { type: "submit" }, t("search")))));
    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")), form, people, messages);

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      messages.replaceChildren();
      try {
        const page = await ctx.api(`/v1/bots/${encodeURIComponent(botSel.value)}/end-users?` + new URLSearchParams({ name: name.value, limit: "20" }));
        people.replaceChildren(el("h2", {}, t("people")));
        if (page.items.length === 0) {
          people.append(el("p", {}, t("none")));
          return;
        }
        people.append(el("ul", { class: "plain" }, page.items.map((u) => el("li", {},
          el("button", { type: "button", class: "secondary", "data-testid": "inbox-open-" + u.id,
            onclick: () => show(botSel.value, u.id, u.displayName) }, t("open")(u.displayName))))));
      } catch (err) {
        people.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    });

    async function show(bot, endUser, who) {
      messages.replaceChildren(el("p", { class: "notice" }, t("loading")));
      const tbody = el("tbody");
      const more = el("p");
      const load = async (cursor) => {
        const q = new URLSearchParams({ limit: "50" });
        if (cursor) q.set("cursor", cursor);
        const page = await ctx.api(`/v1/bots/${encodeURIComponent(bot)}/end-users/${encodeURIComponent(endUser)}/messages?` + q);
        for (const m of page.items) tbody.append(row(bot, who, m));
        more.replaceChildren();
        if (page.nextCursor) more.append(el("button", { type: "button", class: "secondary", onclick: () => load(page.nextCursor) }, t("more")));
        return page;
      };
      try {
        const first = await load("");
        messages.replaceChildren(el("h2", {}, t("inboxOf")(who)));
        if (first.items.length === 0) {
          messages.append(el("p", {}, t("empty")));
          return;
        }
        messages.append(el("div", { class: "scroll" }, el("table", { "data-testid": "inbox-messages" },
          el("thead", {}, el("tr", {}, ["sent", "direction", "text", "attachments", "actions"].map((k) => el("th", { scope: "col" }, t(k))))),
          tbody)), more);
      } catch (err) {
        messages.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    }

    function row(bot, who, m) {
      const when = Lethe.fmtDate(m.sentAt);
      const tr = el("tr", { "data-testid": "inbox-row-" + m.id });
      const state = el("span", { role: "status" });
      const del = el("button", { type: "button", class: "danger", "data-testid": "inbox-delete-" + m.id, "aria-label": t("deleteLabel")(when) },
        t("deleteButton")(m.attachments));
      del.addEventListener("click", async () => {
        const ok = await ctx.confirm({ title: t("confirmTitle"), message: t("confirmText")(who, when, m.attachments), action: t("deleteButton")(m.attachments) });
        if (!ok) return;
        del.disabled = true;
        try {
          await ctx.api(`/v1/bots/${encodeURIComponent(bot)}/inbox/messages/${encodeURIComponent(m.id)}`, { method: "DELETE" });
          tr.replaceChildren(el("td", { colspan: "5", class: "ok", "data-testid": "inbox-deleted" }, `${when}: ${t("deleted")}`));
        } catch (err) {
          del.disabled = false;
          state.replaceChildren(Lethe.errorBox(err, ctx.page));
        }
      });
      tr.append(el("td", {}, when), el("td", {}, t("dir_" + m.direction)), el("td", {}, m.text), el("td", {}, String(m.attachments)),
        el("td", {}, del, " ", state));
      return tr;
    }

    // Arriving from Conversations (or a bookmark): #/inbox?bot=…&endUser=….
    const bot = ctx.params.get("bot");
    const endUser = ctx.params.get("endUser");
    if (bot && endUser && bots.some((b) => b.id === bot)) {
      botSel.value = bot;
      await show(bot, endUser, endUser);
    }
  },
};
