// Profile → Delete account (issue 17, SPEC §3): the owner re-enters the password to ask for the
// account's deletion; then the timeline with its three clocks (the end of the 30-day window, the
// hard delete within 15 business days, the backups' rotation within 30 days), and Cancel while the
// window is open. An account admin sees the timeline only.
import { label, useStyles } from "../requestlabels.js";

const CLOCK_WAIT_MS = 20000; // how long the page waits for the workflow to set the clocks

export default {
  route: "#/profile/delete-account",
  side: "account",
  roles: ["owner", "account_admin"],
  whileDeactivated: true, // the one screen the API answers while the account is deactivated
  title: { en: "Delete account", ru: "Удаление аккаунта" },
  strings: {
    en: {
      intro: "Deleting the account deactivates it at once: sign-in, team members, API tokens and webhooks stop, bots stop. For 30 days you can cancel and everything is restored. Then all its data is destroyed within 15 business days, and the backups that still hold it rotate within 30 days. You get a mail at each step, and an act of destruction at the end.",
      password: "Your current password", passwordHint: "Re-enter it to confirm it is you.",
      deleteButton: (name) => `Delete account “${name}”`,
      confirmTitle: (name) => `Delete account “${name}”?`,
      confirmText: (name) => `Account “${name}” is deactivated now and all its data — bots, conversations, end users, files, team — is destroyed after 30 days unless you cancel before then.`,
      needPassword: "Enter your current password.",
      wrongPassword: "The password is not right. After 5 wrong tries the action is locked for 15 minutes.",
      locked: "Too many wrong passwords: try again in 15 minutes.",
      ownerOnly: "Only the account owner can delete the account.",
      timeline: "Timeline", status: "Status", requested: "Requested",
      waiting: "The deletion is being set up; its dates appear in a moment.",
      cancelButton: (name) => `Cancel the deletion of “${name}”`,
      cancelHint: "Cancelling restores the account at once, as it was.",
      cancelled: "The deletion was cancelled: the account is restored and nothing was deleted.",
      cancelledOn: (at) => `Cancelled on ${at}.`,
      windowOpen: "The account is deactivated. You can cancel until the date below.",
      tooLate: "The 30-day window has ended: the deletion can no longer be cancelled.",
      done: "The account's data is destroyed; the act of destruction was mailed to you.",
      previous: "Your last deletion request was cancelled. You can ask again below.",
      clock_soft_delete_ends: "End of the 30-day window (cancel until then)",
      clock_hard_delete_by: "All data destroyed by (15 business days)",
      clock_backups_rotated_by: "Backups rotated by (30 days)",
    },
    ru: {
      intro: "Удаление сразу деактивирует аккаунт: вход, участники команды, API-токены и вебхуки отключаются, боты останавливаются. В течение 30 дней удаление можно отменить — всё будет восстановлено. Затем все данные уничтожаются в течение 15 рабочих дней, а резервные копии, где они ещё есть, обновляются в течение 30 дней. О каждом шаге придёт письмо, в конце — акт об уничтожении.",
      password: "Текущий пароль", passwordHint: "Введите его ещё раз, чтобы подтвердить, что это вы.",
      deleteButton: (name) => `Удалить аккаунт «${name}»`,
      confirmTitle: (name) => `Удалить аккаунт «${name}»?`,
      confirmText: (name) => `Аккаунт «${name}» будет деактивирован сейчас, а все его данные — боты, диалоги, конечные пользователи, файлы, команда — уничтожены через 30 дней, если вы не отмените удаление.`,
      needPassword: "Введите текущий пароль.",
      wrongPassword: "Пароль неверен. После 5 неверных попыток действие блокируется на 15 минут.",
      locked: "Слишком много неверных паролей: попробуйте через 15 минут.",
      ownerOnly: "Удалить аккаунт может только его владелец.",
      timeline: "Сроки", status: "Статус", requested: "Запрошено",
      waiting: "Удаление готовится; даты появятся через мгновение.",
      cancelButton: (name) => `Отменить удаление «${name}»`,
      cancelHint: "Отмена сразу восстанавливает аккаунт в прежнем виде.",
      cancelled: "Удаление отменено: аккаунт восстановлен, ничего не удалено.",
      cancelledOn: (at) => `Отменено ${at}.`,
      windowOpen: "Аккаунт деактивирован. Отменить удаление можно до даты ниже.",
      tooLate: "30-дневный срок истёк: удаление больше нельзя отменить.",
      done: "Данные аккаунта уничтожены; акт об уничтожении отправлен вам письмом.",
      previous: "Ваш прошлый запрос на удаление отменён. Можно запросить снова.",
      clock_soft_delete_ends: "Конец 30-дневного срока (отмена возможна до него)",
      clock_hard_delete_by: "Все данные уничтожены до (15 рабочих дней)",
      clock_backups_rotated_by: "Резервные копии обновлены до (30 дней)",
    },
  },

  async render(root, ctx) {
    useStyles();
    const { el, t, lang, me, page } = ctx;
    const tf = (key, ...args) => {
      const v = t(key);
      return typeof v === "function" ? v(...args) : v;
    };
    const name = (me && me.account && (me.account.name || me.account.id)) || "";
    const isOwner = me && me.role === "owner";
    root.append(el("h1", {}, page.title[lang] || page.title.en));
    const body = el("div", { "data-testid": "account-deletion" });
    root.append(body);

    let current = null;
    try {
      current = await ctx.api("/v1/account/deletion");
    } catch (err) {
      if (err.status !== 404) throw err;
    }

    const show = (req, message) => {
      body.replaceChildren();
      if (message) body.append(el("p", { class: "ok", role: "status", "data-testid": "deletion-message" }, message));
      if (!req || (req.status === "cancelled" && !message)) {
        if (req) body.append(el("p", { class: "notice" }, t("previous")));
        body.append(requestForm());
        return;
      }
      body.append(timeline(req));
    };

    const requestForm = () => {
      const wrap = el("section", { "aria-labelledby": "del-intro" });
      wrap.append(el("p", { id: "del-intro" }, t("intro")));
      if (!isOwner) {
        wrap.append(el("p", { class: "notice", "data-testid": "owner-only" }, t("ownerOnly")));
        return wrap;
      }
      const err = el("div", { "aria-live": "assertive" });
      const pw = el("input", { type: "password", id: "del-password", name: "password", autocomplete: "current-password",
        required: true, "aria-describedby": "del-password-hint", "data-testid": "password" });
      const btn = el("button", { type: "submit", class: "danger", "data-testid": "delete-account" }, tf("deleteButton", name));
      const form = el("form", { class: "panel", novalidate: true },
        el("label", { for: "del-password" }, t("password")), pw,
        el("p", { id: "del-password-hint", class: "notice" }, t("passwordHint")),
        err, el("div", { class: "row" }, btn));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        err.replaceChildren();
        if (!pw.value) {
          err.append(el("p", { class: "error", role: "alert", "data-testid": "error" }, t("needPassword")));
          pw.focus();
          return;
        }
        const ok = await ctx.confirm({ title: tf("confirmTitle", name), message: tf("confirmText", name), action: tf("deleteButton", name) });
        if (!ok) return;
        btn.disabled = true;
        try {
          const req = await ctx.api("/v1/account/deletion", { method: "POST", body: { password: pw.value },
            headers: { "Idempotency-Key": crypto.randomUUID() } });
          pw.value = "";
          show(req);
          await waitForClocks(req);
          // The account is deactivated a moment after the request: the shell then lists only
          // this screen, under its banner.
          for (let i = 0; i < 15 && root.isConnected; i++) {
            await window.Lethe.refreshIdentity();
            if (window.Lethe.me && window.Lethe.me.account && window.Lethe.me.account.status === "soft_deleted") break;
            await new Promise((r) => setTimeout(r, 700));
          }
        } catch (e2) {
          btn.disabled = false;
          const text = e2.status === 403 ? t("wrongPassword") : e2.status === 429 ? t("locked") : e2.message;
          err.append(el("p", { class: "error", role: "alert", "data-testid": "error" }, text));
          pw.select();
        }
      });
      wrap.append(form);
      return wrap;
    };

    // The workflow sets the clocks a moment after the request is recorded: ask again until they
    // are there.
    const waitForClocks = async (req) => {
      const until = Date.now() + CLOCK_WAIT_MS;
      while ((req.clocks || []).length === 0 && req.status !== "cancelled" && Date.now() < until && root.isConnected) {
        await new Promise((r) => setTimeout(r, 700));
        try {
          req = await ctx.api("/v1/account/deletion");
        } catch {
          continue;
        }
        show(req);
      }
    };

    const timeline = (req) => {
      const sec = el("section", { class: "panel", "aria-labelledby": "tl-title", "data-testid": "timeline", dataset: { status: req.status } });
      sec.append(el("h2", { id: "tl-title" }, t("timeline")));
      sec.append(el("p", {}, `${t("status")}: `, el("strong", { "data-testid": "deletion-status" }, label(lang, "status_" + req.status)),
        ` · ${t("requested")}: ${window.Lethe.fmtDate(req.createdAt)}`));
      const clocks = req.clocks || [];
      const windowEnd = clocks.find((c) => c.name === "soft_delete_ends");
      const cancellable = ["received", "scheduled", "soft_deleted"].includes(req.status) && !(windowEnd && windowEnd.passed);
      if (req.status === "soft_deleted" && cancellable) sec.append(el("p", {}, t("windowOpen")));
      if (req.status === "hard_deleting" || (req.status === "soft_deleted" && !cancellable)) sec.append(el("p", { class: "notice" }, t("tooLate")));
      if (req.status === "awaiting_backup_rotation" || req.status === "completed") sec.append(el("p", { class: "ok" }, t("done")));
      if (clocks.length === 0 && req.status !== "cancelled") sec.append(el("p", { class: "notice", "data-testid": "clocks-waiting" }, t("waiting")));
      const cancelledAt = req.status === "cancelled" && (req.history || []).filter((e) => e.status === "cancelled").pop();
      if (cancelledAt) sec.append(el("p", { "data-testid": "cancelled-at" }, tf("cancelledOn", window.Lethe.fmtDate(cancelledAt.at))));
      if (clocks.length > 0 && req.status !== "cancelled") {
        const ol = el("ol", { class: "clocks", "data-testid": "clocks" });
        for (const c of clocks) {
          const left = c.passed ? label(lang, "passed") : label(lang, "in_days", c.daysLeft);
          ol.append(el("li", { dataset: { clock: c.name, passed: String(c.passed) } },
            el("span", { class: "clock-name" }, t("clock_" + c.name)), ": ",
            el("time", { datetime: c.at }, window.Lethe.fmtDate(c.at, false)), " ",
            el("span", { class: "clock-left", "data-testid": "days-left" }, `(${left})`)));
        }
        sec.append(ol);
      }
      if (isOwner && cancellable) {
        const btn = el("button", { type: "button", class: "secondary", "data-testid": "cancel-deletion", "aria-describedby": "cancel-hint" },
          tf("cancelButton", name));
        btn.addEventListener("click", async () => {
          btn.disabled = true;
          try {
            const r = await ctx.api("/v1/account/deletion/cancel", { method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() } });
            show(r, t("cancelled"));
            await window.Lethe.refreshIdentity(); // the account's screens come back
          } catch (e) {
            btn.disabled = false;
            sec.append(window.Lethe.errorBox(e, page));
          }
        });
        sec.append(el("div", { class: "row" }, btn), el("p", { id: "cancel-hint", class: "notice" }, t("cancelHint")));
      }
      return sec;
    };

    show(current);
    if (current && (current.clocks || []).length === 0 && current.status !== "cancelled") await waitForClocks(current);
  },
};
