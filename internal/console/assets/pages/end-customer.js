// The end-customer queue (issue 17, SPEC §3): requests end customers mailed about their data on
// the caller's bots. Each pending one names the bot and the end user it was matched to, with their
// dates and the deadlines; the owner or an admin approves (the end user's data on that bot is
// destroyed) or declines with a reason the requester is told. Decided requests follow below. When
// the end customer's identifier matched several end users, the card lists them and the owner picks
// the one to delete before approving. The owner may ask the requester for proof that the chat is
// theirs (a one-time code the bot sends into it); a verified request carries a "Verified" mark.
import { label, dueText, whoDecided, useStyles, verificationBox } from "../requestlabels.js";

export default {
  route: "#/end-customer-requests",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin"],
  title: { en: "End-customer requests", ru: "Запросы клиентов" },
  strings: {
    en: {
      intro: "End customers who asked by mail to delete their data on your bots. Decide each within 10 business days; after that the platform's privacy officer decides.",
      pending: "Waiting for your decision", decided: "Decided", nonePending: "No request is waiting for a decision.", noneDecided: "None yet.",
      bot: "Bot", endUser: "End user", channel: "Channel", firstConversation: "First conversation", lastActive: "Last active",
      received: "Received", gone: "no longer exists", more: "More requests",
      approve: (who, bot) => `Approve: delete ${who}'s data on ${bot}`,
      approveTitle: (who, bot) => `Delete ${who}'s data on ${bot}?`,
      approveText: (who, bot) => `All of ${who}'s data on ${bot} — profile, conversations, messages, files — is destroyed. The requester is told.`,
      decline: "Decline", reason: "Reason for declining (told to the requester)", needReason: "Write why it is declined: the requester is told.",
      approvedMsg: (who, bot) => `Approved: ${who}'s data on ${bot} is being deleted; the requester is told.`,
      declinedMsg: "Declined: the requester is told the reason.",
      decision: "Decision", approvedBy: "approved", declinedBy: "declined", by: "by", status: "Status",
      theEndUser: "the end user",
      candidates: "The identifier matches several end users. Pick the one whose data is deleted:",
      pickOne: "Pick the end user whose data is deleted.",
    },
    ru: {
      intro: "Конечные клиенты, попросившие по почте удалить их данные в ваших ботах. Решите по каждому в течение 10 рабочих дней; после этого решает ответственный за обработку персональных данных платформы.",
      pending: "Ждут вашего решения", decided: "Решённые", nonePending: "Нет запросов, ждущих решения.", noneDecided: "Пока нет.",
      bot: "Бот", endUser: "Конечный пользователь", channel: "Канал", firstConversation: "Первый диалог", lastActive: "Последняя активность",
      received: "Получен", gone: "больше не существует", more: "Ещё запросы",
      approve: (who, bot) => `Одобрить: удалить данные ${who} в боте ${bot}`,
      approveTitle: (who, bot) => `Удалить данные ${who} в боте ${bot}?`,
      approveText: (who, bot) => `Все данные ${who} в боте ${bot} — профиль, диалоги, сообщения, файлы — будут уничтожены. Заявитель получит уведомление.`,
      decline: "Отклонить", reason: "Причина отказа (её получит заявитель)", needReason: "Укажите причину отказа: её получит заявитель.",
      approvedMsg: (who, bot) => `Одобрено: данные ${who} в боте ${bot} удаляются; заявитель уведомлён.`,
      declinedMsg: "Отклонено: заявитель получит причину.",
      decision: "Решение", approvedBy: "одобрено", declinedBy: "отклонено", by: "кем", status: "Статус",
      theEndUser: "конечного пользователя",
      candidates: "Под описание подходят несколько конечных пользователей. Выберите того, чьи данные удалить:",
      pickOne: "Выберите конечного пользователя, чьи данные удалить.",
    },
  },

  async render(root, ctx) {
    useStyles();
    const { el, t, lang, page } = ctx;
    const tf = (key, ...args) => {
      const v = t(key);
      return typeof v === "function" ? v(...args) : v;
    };
    root.append(el("h1", {}, page.title[lang] || page.title.en), el("p", {}, t("intro")));
    const pendingList = el("div", { "data-testid": "pending" });
    const decidedList = el("div", { "data-testid": "decided" });
    const more = el("button", { type: "button", class: "secondary", hidden: true, "data-testid": "more" }, t("more"));
    root.append(el("h2", {}, t("pending")), pendingList, el("h2", {}, t("decided")), decidedList, more);

    const decider = (by) => whoDecided(t, by, ctx.me);
    const isPending = (r) => r.status === "awaiting_verification" && !r.decision;
    const who = (r) => (r.endUser && r.endUser.displayName) || t("theEndUser");

    const facts = (r) => {
      const dl = el("dl", { class: "facts" });
      const add = (k, v) => dl.append(el("dt", {}, k), el("dd", {}, v));
      add(t("bot"), r.botName || r.scope.botId);
      if (r.endUser) {
        add(t("endUser"), r.endUser.displayName + (r.endUser.username ? ` (@${r.endUser.username})` : ""));
        add(t("channel"), r.endUser.channel);
        add(t("firstConversation"), window.Lethe.fmtDate(r.endUser.firstConversationAt));
        add(t("lastActive"), window.Lethe.fmtDate(r.endUser.lastActiveAt));
      } else {
        add(t("endUser"), `${r.scope.endUserId} — ${t("gone")}`);
      }
      add(t("received"), window.Lethe.fmtDate(r.createdAt));
      for (const n of isPending(r) ? ["escalate_at", "complete_by"] : []) {
        const at = (r.deadlines || {})[n];
        if (at) add(label(lang, "deadline_" + n), `${window.Lethe.fmtDate(at, false)} (${dueText(lang, at, !isPending(r))})`);
      }
      return dl;
    };

    const decidedCard = (r, message) => {
      const box = el("article", { class: "panel", "data-testid": "decided-request", dataset: { id: r.id, status: r.status } });
      if (message) box.append(el("p", { class: "ok", role: "status", "data-testid": "result" }, message));
      box.append(el("p", {}, `${t("status")}: `, el("strong", {}, label(lang, "status_" + r.status))));
      box.append(facts(r));
      if (r.verification && r.verification.status !== "none") box.append(verificationBox(el, lang, r, null, (e) => window.Lethe.errorBox(e, page)));
      if (r.decision) {
        box.append(el("p", {}, `${t("decision")}: ${t(r.decision.approved ? "approvedBy" : "declinedBy")} — ${t("by")} ${decider(r.decision.by)}, ${window.Lethe.fmtDate(r.decision.at)}`,
          r.decision.reason ? `: «${r.decision.reason}»` : ""));
      }
      return box;
    };

    const pendingCard = (r) => {
      const box = el("article", { class: "panel", "data-testid": "pending-request", dataset: { id: r.id } });
      const bot = r.botName || r.scope.botId;
      const several = (r.candidates || []).length > 1;
      let name = several ? "" : who(r);
      box.append(el("h3", {}, several ? bot : `${name} · ${bot}`));
      let picked = "";
      if (several) {
        const group = el("fieldset", { "data-testid": `candidates-${r.id}` }, el("legend", {}, t("candidates")));
        for (const c of r.candidates) {
          const id = `pick-${r.id}-${c.id}`;
          const radio = el("input", { type: "radio", name: `pick-${r.id}`, id, value: c.id, "data-testid": id });
          radio.addEventListener("change", () => {
            picked = c.id;
            name = c.displayName;
            approve.textContent = tf("approve", name, bot);
          });
          const text = `${c.displayName}${c.username ? ` (@${c.username})` : ""} — ${c.channel}, ${t("lastActive").toLowerCase()} ${window.Lethe.fmtDate(c.lastActiveAt)}`;
          group.append(el("div", { class: "row" }, radio, el("label", { for: id }, text)));
        }
        box.append(group);
      } else {
        box.append(facts(r));
      }
      // Proof that the requester controls the chat: the code goes to the picked candidate's chat.
      const ask = () => ctx.api(`/v1/end-customer-requests/${encodeURIComponent(r.id)}/verification`, { method: "POST",
        body: several && picked ? { endUserId: picked } : undefined, headers: { "Idempotency-Key": crypto.randomUUID() } });
      box.append(verificationBox(el, lang, r, ask, (e) => window.Lethe.errorBox(e, page)));
      const err = el("div", { "aria-live": "assertive" });
      const approve = el("button", { type: "button", class: "danger", "data-testid": `approve-${r.id}` }, tf("approve", several ? "…" : name, bot));
      const reasonId = `reason-${r.id}`;
      const reason = el("textarea", { id: reasonId, rows: 2, maxlength: 2000, required: true, "data-testid": `reason-${r.id}` });
      const decline = el("button", { type: "submit", class: "secondary", "data-testid": `decline-${r.id}` }, t("decline"));
      const declineForm = el("form", { class: "decline", novalidate: true }, el("label", { for: reasonId }, t("reason")), reason, el("div", { class: "row" }, decline));
      const decided = (out, message) => {
        box.remove();
        decidedList.querySelector("[data-testid=none-decided]")?.remove();
        decidedList.prepend(decidedCard(out, message));
        if (!pendingList.querySelector("[data-testid=pending-request]")) pendingList.replaceChildren(el("p", { class: "notice" }, t("nonePending")));
      };
      const fail = (e) => {
        approve.disabled = decline.disabled = false;
        err.replaceChildren(window.Lethe.errorBox(e, page));
      };
      approve.addEventListener("click", async () => {
        err.replaceChildren();
        if (several && !picked) {
          err.append(el("p", { class: "error", role: "alert", "data-testid": "error" }, t("pickOne")));
          return;
        }
        const ok = await ctx.confirm({ title: tf("approveTitle", name, bot), message: tf("approveText", name, bot), action: tf("approve", name, bot) });
        if (!ok) return;
        approve.disabled = decline.disabled = true;
        try {
          const out = await ctx.api(`/v1/end-customer-requests/${encodeURIComponent(r.id)}/approve`, { method: "POST",
            body: several ? { endUserId: picked } : undefined, headers: { "Idempotency-Key": crypto.randomUUID() } });
          decided(Object.assign({}, r, out), tf("approvedMsg", name, bot));
        } catch (e) {
          fail(e);
        }
      });
      declineForm.addEventListener("submit", async (e) => {
        e.preventDefault();
        err.replaceChildren();
        if (!reason.value.trim()) {
          err.append(el("p", { class: "error", role: "alert", "data-testid": "error" }, t("needReason")));
          reason.focus();
          return;
        }
        approve.disabled = decline.disabled = true;
        try {
          const out = await ctx.api(`/v1/end-customer-requests/${encodeURIComponent(r.id)}/decline`, { method: "POST",
            body: { reason: reason.value.trim() }, headers: { "Idempotency-Key": crypto.randomUUID() } });
          decided(Object.assign({}, r, out), t("declinedMsg"));
        } catch (e2) {
          fail(e2);
        }
      });
      box.append(err, el("div", { class: "row" }, approve), declineForm);
      return box;
    };

    let cursor = "";
    const load = async () => {
      const q = new URLSearchParams({ limit: "50" });
      if (cursor) q.set("cursor", cursor);
      const pg = await ctx.api("/v1/end-customer-requests?" + q);
      for (const r of pg.items) (isPending(r) ? pendingList : decidedList).append(isPending(r) ? pendingCard(r) : decidedCard(r));
      if (!pendingList.childElementCount) pendingList.append(el("p", { class: "notice" }, t("nonePending")));
      if (!decidedList.childElementCount) decidedList.append(el("p", { class: "notice", "data-testid": "none-decided" }, t("noneDecided")));
      cursor = pg.nextCursor || "";
      more.hidden = !cursor;
    };
    window.Lethe.onMore(more, load, root, page);
    await load();
    // The owner's notice mail links here with ?id=: that request is brought into view and focused.
    const wanted = ctx.params.get("id");
    const card = wanted && [...root.querySelectorAll("article[data-id]")].find((a) => a.dataset.id === wanted);
    if (card) {
      card.classList.add("focus");
      card.dataset.focused = "true";
      card.tabIndex = -1;
      card.scrollIntoView({ block: "start" });
      card.focus({ preventScroll: true });
    }
  },
};
