// Legal holds (privacy officers): every hold in force across the accounts, or one account's holds,
// active and released, page by page; place a hold on an account, one bot or one end user, naming the
// authority and its reference; release one with a note.
// Placing and releasing each ask once, saying what they do: a hold stops every deletion of what it
// covers, and its release lets the deletions it stopped finish.
import { Lethe } from "../console.js";

export default {
  route: "#/ops/holds",
  side: "ops",
  roles: ["operator"],
  title: { en: "Legal holds", ru: "Удержание данных" },
  strings: {
    en: {
      intro: "A legal hold keeps what it covers from every deletion, automatic or requested, until it is released. Every action is recorded with your name on the hold and in the account's requests.",
      account: "Account id (empty: every account)", show: "Show holds", activeOnly: "Active holds only",
      none: "This account has no holds.", noneAll: "No account has a hold.", noneAllActive: "No hold is in force.",
      allTitle: "Every account", allActiveTitle: "In force in every account", more: "Show more", accountCol: "Account",
      placeAccount: "Account to hold", scope: "Scope", kind_account: "the whole account", kind_bot: "bot", kind_end_user: "bot user",
      reason: "Reason", authority: "Authority", authorityRef: "Authority's reference", until: "Until (stated by the authority, optional)",
      placed: "Placed", released: "Released", by: "by", state: "State", active: "active", ttl: "Expiry",
      ttl_removing: "being lifted", ttl_removed: "lifted", ttl_restoring: "being restored", ttl_restored: "restored",
      place: "Place a hold", scopeKind: "What to hold", scopeID: "Bot or bot user id (not for the whole account)",
      placeButton: "Place the hold", placeTitle: "Place this legal hold?",
      placeText: (h) => `Nothing of ${h.what} in account ${h.accountId} will be deleted until the hold is released: deletions under way stop at it. Authority: ${h.authority}, ${h.authorityRef}.`,
      placeAction: "Place the hold", placedOk: (id) => `Hold ${id} placed.`,
      note: "Why it is released", releaseButton: "Release…", releaseTitle: "Release this legal hold?",
      releaseText: (h) => `The deletions hold ${h.id} stopped will finish and destroy what it kept (${h.what}). This cannot be undone.`,
      releaseAction: "Release and let the deletions finish", releasedOk: (id) => `Hold ${id} released; the deletions it stopped are finishing.`,
      noteMissing: "Say why the hold is released.",
    },
    ru: {
      intro: "Удержание защищает данные от любого удаления — автоматического или по заявке — до его снятия. Каждое действие записывается с вашим именем в удержание и в заявки аккаунта.",
      account: "ID аккаунта (пусто — все аккаунты)", show: "Показать удержания", activeOnly: "Только действующие",
      none: "У этого аккаунта нет удержаний.", noneAll: "Удержаний нет ни в одном аккаунте.", noneAllActive: "Действующих удержаний нет.",
      allTitle: "Все аккаунты", allActiveTitle: "Действующие во всех аккаунтах", more: "Показать ещё", accountCol: "Аккаунт",
      placeAccount: "Аккаунт, данные которого удерживать", scope: "Область", kind_account: "весь аккаунт", kind_bot: "бот", kind_end_user: "пользователь бота",
      reason: "Основание", authority: "Орган", authorityRef: "Номер запроса органа", until: "Срок (по запросу органа, необязательно)",
      placed: "Установлено", released: "Снято", by: "—", state: "Состояние", active: "действует", ttl: "Сроки хранения",
      ttl_removing: "снимаются", ttl_removed: "сняты", ttl_restoring: "восстанавливаются", ttl_restored: "восстановлены",
      place: "Установить удержание", scopeKind: "Что удерживать", scopeID: "ID бота или пользователя бота (не для всего аккаунта)",
      placeButton: "Установить удержание", placeTitle: "Установить удержание?",
      placeText: (h) => `Данные (${h.what}) аккаунта ${h.accountId} не будут удаляться до снятия удержания: идущие удаления на них остановятся. Орган: ${h.authority}, ${h.authorityRef}.`,
      placeAction: "Установить удержание", placedOk: (id) => `Удержание ${id} установлено.`,
      note: "Почему снимается", releaseButton: "Снять…", releaseTitle: "Снять удержание?",
      releaseText: (h) => `Удаления, остановленные удержанием ${h.id}, будут завершены, и удержанные данные (${h.what}) будут уничтожены. Отменить это нельзя.`,
      releaseAction: "Снять и завершить удаления", releasedOk: (id) => `Удержание ${id} снято; остановленные им удаления завершаются.`,
      noteMissing: "Укажите, почему удержание снимается.",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    const what = (h) => h.scope.kind === "account" ? t("kind_account") : `${t("kind_" + h.scope.kind)} ${h.scope.id}`;
    const account = el("input", { id: "holds-account", name: "account", value: ctx.params.get("account") || "", autocomplete: "off" });
    // Every account's list shows the holds in force unless asked otherwise; one account's list
    // shows its released holds too.
    const activeOnly = el("input", { id: "holds-active", type: "checkbox" });
    activeOnly.checked = ctx.params.has("active") ? ctx.params.get("active") === "true" : !account.value;
    const placeAccount = el("input", { id: "hold-account", name: "accountId", value: account.value, required: true, autocomplete: "off" });
    const list = el("section", { "aria-labelledby": "holds-list-h" });
    const status = el("div", { "aria-live": "polite", "data-testid": "holds-status" });
    const search = el("form", { class: "panel", "aria-label": t("show") },
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "holds-account" }, t("account")), account),
        el("div", {}, el("label", { class: "inline", for: "holds-active" }, activeOnly, t("activeOnly"))),
        el("div", {}, el("button", { type: "submit" }, t("show")))));

    const kind = el("select", { id: "hold-kind", name: "kind" },
      ["end_user", "bot", "account"].map((k) => el("option", { value: k }, t("kind_" + k))));
    const scopeID = el("input", { id: "hold-scope-id", name: "scopeId", autocomplete: "off" });
    const reason = el("textarea", { id: "hold-reason", name: "reason", rows: 2, required: true, maxlength: 2000 });
    const authority = el("input", { id: "hold-authority", name: "authority", required: true, maxlength: 500 });
    const ref = el("input", { id: "hold-ref", name: "authorityRef", required: true, maxlength: 500 });
    const until = el("input", { id: "hold-until", name: "until", type: "date" });
    const place = el("form", { class: "panel", "aria-labelledby": "hold-place-h" },
      el("h2", { id: "hold-place-h" }, t("place")),
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "hold-account" }, t("placeAccount")), placeAccount),
        el("div", {}, el("label", { for: "hold-kind" }, t("scopeKind")), kind),
        el("div", {}, el("label", { for: "hold-scope-id" }, t("scopeID")), scopeID)),
      el("label", { for: "hold-reason" }, t("reason")), reason,
      el("div", { class: "row" },
        el("div", {}, el("label", { for: "hold-authority" }, t("authority")), authority),
        el("div", {}, el("label", { for: "hold-ref" }, t("authorityRef")), ref),
        el("div", {}, el("label", { for: "hold-until" }, t("until")), until)),
      el("p", {}, el("button", { type: "submit", class: "danger", "data-testid": "hold-place" }, t("placeButton"))));

    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")), search, status, list, place);

    // show lists the holds the filter names from the first page; more() appends the next page.
    let next = "";
    const more = el("button", { type: "button", "data-testid": "holds-more", hidden: true, onclick: () => page().catch((err) => list.append(Lethe.errorBox(err, ctx.page))) }, t("more"));
    let tbody = null;

    async function show() {
      const acct = account.value.trim();
      if (acct) placeAccount.value = acct;
      const title = acct || t(activeOnly.checked ? "allActiveTitle" : "allTitle");
      list.replaceChildren(el("h2", { id: "holds-list-h" }, `${ctx.page.title[ctx.lang]}: ${title}`));
      next = "";
      tbody = null;
      await page();
    }

    async function page() {
      const acct = account.value.trim();
      const q = new URLSearchParams({ active: activeOnly.checked ? "true" : "false" });
      if (acct) q.set("account", acct);
      if (next) q.set("cursor", next);
      const got = await ctx.api("/v1/ops/holds?" + q);
      next = got.nextCursor || "";
      if (!tbody && got.items.length === 0) {
        list.append(el("p", { "data-testid": "holds-none" }, t(acct ? "none" : activeOnly.checked ? "noneAllActive" : "noneAll")));
        return;
      }
      if (!tbody) {
        tbody = el("tbody");
        list.append(el("div", { class: "scroll" }, el("table", { "data-testid": "holds" },
          el("thead", {}, el("tr", {}, ["accountCol", "scope", "reason", "authority", "placed", "state", "ttl", ""].map((k) => el("th", { scope: "col" }, k ? t(k) : "")))),
          tbody)), more);
      }
      more.hidden = !next;
      for (const h of got.items) {
        const cells = [
          el("td", {}, h.accountId),
          el("td", {}, what(h)),
          el("td", {}, h.reason),
          el("td", {}, `${h.authority}, ${h.authorityRef}`, h.until ? ` (${Lethe.fmtDate(h.until, false)})` : ""),
          el("td", {}, `${Lethe.fmtDate(h.placedAt)} ${t("by")} ${h.placedBy}`),
          el("td", { "data-testid": "hold-state-" + h.id }, h.releasedAt ? `${t("released")} ${Lethe.fmtDate(h.releasedAt)} ${t("by")} ${h.releasedBy}: ${h.releaseNote}` : t("active")),
          el("td", {}, `${t("ttl_" + h.ttl.state)} (${h.ttl.items})`),
        ];
        const action = el("td");
        if (!h.releasedAt) {
          const note = el("input", { id: "hold-note-" + h.id, maxlength: 2000 });
          action.append(el("label", { for: "hold-note-" + h.id }, t("note")), note, " ",
            el("button", { type: "button", class: "danger", "data-testid": "hold-release-" + h.id, onclick: () => release(h, note) }, t("releaseButton")));
        }
        tbody.append(el("tr", { "data-hold": h.id }, cells, action));
      }
    }

    async function release(h, note) {
      if (!note.value.trim()) {
        status.replaceChildren(el("p", { class: "error", role: "alert" }, t("noteMissing")));
        note.focus();
        return;
      }
      const ok = await ctx.confirm({ title: t("releaseTitle"), message: t("releaseText")({ id: h.id, what: what(h) }), action: t("releaseAction") });
      if (!ok) return;
      try {
        await ctx.api(`/v1/ops/holds/${encodeURIComponent(h.id)}/release`, { method: "POST", body: { note: note.value.trim() } });
        status.replaceChildren(el("p", { class: "ok", role: "status" }, t("releasedOk")(h.id)));
        await show();
      } catch (err) {
        status.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    }

    search.addEventListener("submit", (e) => {
      e.preventDefault();
      show().catch((err) => list.replaceChildren(Lethe.errorBox(err, ctx.page)));
    });
    place.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { accountId: placeAccount.value.trim(), scope: { kind: kind.value, id: kind.value === "account" ? "" : scopeID.value.trim() },
        reason: reason.value.trim(), authority: authority.value.trim(), authorityRef: ref.value.trim() };
      if (until.value) body.until = until.value;
      const ok = await ctx.confirm({ title: t("placeTitle"),
        message: t("placeText")({ what: what(body), accountId: body.accountId, authority: body.authority, authorityRef: body.authorityRef }),
        action: t("placeAction") });
      if (!ok) return;
      try {
        const h = await ctx.api("/v1/ops/holds", { method: "POST", body });
        status.replaceChildren(el("p", { class: "ok", role: "status" }, t("placedOk")(h.id)));
        await show();
      } catch (err) {
        status.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    });
    await show().catch((err) => list.replaceChildren(Lethe.errorBox(err, ctx.page)));
  },
};
