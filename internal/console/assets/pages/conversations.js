// Conversations (seed: "Other ways to find and delete someone's personal data"): find a bot user
// by name and delete that person's data on the bot. Only the bot's admins and the account's admins
// search and delete (GET /v1/me says on which bots: canDelete); anyone else is told so and gets no
// button.
import { Lethe } from "../console.js";

const POLL_MS = 1000;

export default {
  route: "#/conversations",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin", "member"],
  title: { en: "Conversations", ru: "Диалоги" },
  strings: {
    en: {
      intro: "Find a person who talked to one of your bots by name, and delete their data on that bot: profile, conversations, messages, inbox messages and files.",
      adminsOnly: "Only a bot's admins and the account's admins can search and delete bot users' data. Ask one of them.",
      bot: "Bot", name: "Name", search: "Search", results: "Bot users", none: "No bot user of this bot has that name.",
      channel: "Channel", firstConversation: "First conversation", lastActive: "Last active", actions: "Actions",
      more: "Show more", inbox: "Inbox",
      deleteButton: (n) => `Delete ${n}`, deleteLabel: (n) => `Delete ${n} and their conversations`,
      confirmTitle: (n) => `Delete ${n} for good?`,
      confirmText: (n, b) => `This deletes ${n}'s profile, conversations, messages, inbox messages and files on the bot ${b}. It cannot be undone.`,
      started: "Deletion started…", deleted: "Deleted", failed: "The deletion stopped: see Requests.",
    },
    ru: {
      intro: "Найдите по имени человека, который писал вашему боту, и удалите его данные в этом боте: профиль, диалоги, сообщения, входящие сообщения и файлы.",
      adminsOnly: "Искать и удалять данные пользователей могут только администраторы бота и аккаунта. Обратитесь к ним.",
      bot: "Бот", name: "Имя", search: "Найти", results: "Пользователи бота", none: "У этого бота нет пользователя с таким именем.",
      channel: "Канал", firstConversation: "Первый диалог", lastActive: "Последняя активность", actions: "Действия",
      more: "Показать ещё", inbox: "Входящие",
      deleteButton: (n) => `Удалить: ${n}`, deleteLabel: (n) => `Удалить пользователя ${n} и его диалоги`,
      confirmTitle: (n) => `Удалить пользователя ${n} безвозвратно?`,
      confirmText: (n, b) => `Будут удалены профиль, диалоги, сообщения, входящие сообщения и файлы пользователя ${n} в боте ${b}. Отменить это нельзя.`,
      started: "Удаление запущено…", deleted: "Удалено", failed: "Удаление остановилось: см. «Заявки».",
    },
  },

  async render(root, ctx) {
    const { t, el, me } = ctx;
    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")));
    const bots = me.bots.filter((b) => b.canDelete);
    if (bots.length === 0) {
      root.append(el("p", { class: "notice", "data-testid": "conversations-admins-only" }, t("adminsOnly")));
      return;
    }
    const botSel = el("select", { id: "conv-bot" }, bots.map((b) => el("option", { value: b.id }, b.name)));
    if (ctx.params.get("bot")) botSel.value = ctx.params.get("bot");
    const name = el("input", { id: "conv-name", type: "search", required: true, maxlength: "200", autocomplete: "off" });
    const results = el("section", { "aria-live": "polite" });
    const form = el("form", { class: "panel", role: "search" },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "conv-bot" }, t("bot")), botSel),
        el("div", {}, el("label", { for: "conv-name" }, t("name")), name),
        el("div", {}, el("button", { type: "submit" }, t("search")))));
    root.append(form, results);

    let generation = 0;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const mine = ++generation;
      const bot = bots.find((b) => b.id === botSel.value);
      const tbody = el("tbody");
      const more = el("p");
      const load = async (cursor) => {
        const q = new URLSearchParams({ name: name.value, limit: "50" });
        if (cursor) q.set("cursor", cursor);
        const page = await ctx.api(`/v1/bots/${encodeURIComponent(bot.id)}/end-users?` + q);
        if (mine !== generation) return null;
        for (const u of page.items) tbody.append(row(u, bot));
        more.replaceChildren();
        if (page.nextCursor) more.append(el("button", { type: "button", class: "secondary", onclick: () => load(page.nextCursor) }, t("more")));
        return page;
      };
      results.replaceChildren(el("p", { class: "notice" }, t("loading")));
      try {
        const first = await load("");
        if (!first) return;
        results.replaceChildren(el("h2", {}, t("results")));
        if (first.items.length === 0) {
          results.append(el("p", { "data-testid": "conversations-none" }, t("none")));
          return;
        }
        results.append(el("div", { class: "scroll" }, el("table", { "data-testid": "conversations-results" },
          el("thead", {}, el("tr", {}, ["name", "channel", "firstConversation", "lastActive", "actions"].map((k) => el("th", { scope: "col" }, t(k))))),
          tbody)), more);
      } catch (err) {
        results.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    });

    function row(u, bot) {
      const state = el("span", { role: "status" });
      const actions = el("td", {},
        el("a", { href: `#/inbox?bot=${encodeURIComponent(bot.id)}&endUser=${encodeURIComponent(u.id)}`, class: "secondary" }, t("inbox")), " ");
      // The button only where /v1/me says this person may delete on this bot.
      if (bot.canDelete) {
        const del = el("button", { type: "button", class: "danger", "data-testid": "conv-delete-" + u.id, "aria-label": t("deleteLabel")(u.displayName) },
          t("deleteButton")(u.displayName));
        del.addEventListener("click", async () => {
          const ok = await ctx.confirm({ title: t("confirmTitle")(u.displayName), message: t("confirmText")(u.displayName, bot.name),
            action: t("deleteButton")(u.displayName) });
          if (!ok) return;
          del.disabled = true;
          try {
            const req = await ctx.api(`/v1/bots/${encodeURIComponent(bot.id)}/end-users/${encodeURIComponent(u.id)}`, { method: "DELETE" });
            del.remove();
            state.textContent = t("started");
            follow(req, state);
          } catch (err) {
            del.disabled = false;
            state.replaceChildren(Lethe.errorBox(err, ctx.page));
          }
        });
        actions.append(del);
      }
      actions.append(" ", state);
      return el("tr", { "data-testid": "conv-row-" + u.id }, el("td", {}, u.displayName), el("td", {}, u.channel),
        el("td", {}, Lethe.fmtDate(u.firstConversationAt)), el("td", {}, Lethe.fmtDate(u.lastActiveAt)), actions);
    }

    // follow polls the request until it is done (account admins; a bot admin may not read requests).
    function follow(req, state) {
      const tick = async () => {
        if (!document.body.contains(state)) return;
        try {
          const r = await ctx.api("/v1/deletion-requests/" + encodeURIComponent(req.id));
          if (r.status === "completed") { state.textContent = t("deleted"); return; }
          if (["failed", "cancelled", "held"].includes(r.status)) { state.textContent = t("failed"); return; }
        } catch {
          return; // 403 for a bot admin: "Deletion started…" stays, and the work goes on.
        }
        setTimeout(tick, POLL_MS);
      };
      setTimeout(tick, POLL_MS);
    }
  },
};
