// The console's shell: sign-in state, the API wrapper, the strings in two languages, the hash
// router and the navigation. Each screen is a module under pages/ (see PAGES below); the shell
// renders the one the hash names, if the signed-in person may use it.

// PAGES lists every screen, one line each. A page module exports default
// { route, side: "account"|"ops"|"public", roles, title: {en, ru}, strings: {en, ru}, render(root, ctx) }.
// A route ending in "/" is a screen of one item ("#/ops/requests/<id>"): ctx.rest is the rest of the
// hash, and the navigation does not list it. While the account is deactivated (its deletion's
// 30-day window) the API answers only the deletion's own routes: the shell then lists only the
// account pages that declare whileDeactivated: true.
const PAGES = [
  "./pages/signin.js",
  "./pages/privacy.js",
  "./pages/conversations.js",
  "./pages/inbox.js",
  "./pages/activity.js",
  "./pages/account-deletion.js",
  "./pages/requests.js",
  "./pages/end-customer.js",
  "./pages/ops-holds.js",
  "./pages/ops-acts.js",
  "./pages/ops-register.js",
  "./pages/ops-request.js",
  "./pages/ops-reports.js",
];

const TOKEN = "lethe.token";
const LANG = "lethe.lang";

// The shell's own strings; a page's strings come first for that page.
const SHELL = {
  en: {
    skip: "Skip to content", signout: "Sign out", language: "Language", screens: "Screens",
    notAllowed: "Your role may not use this screen.", notFound: "No such screen.",
    cancel: "Cancel", loading: "Loading…", failed: "Something went wrong", signedInAs: "Signed in as",
    officer: "privacy officer", role_owner: "owner", role_account_admin: "account admin",
    role_bot_admin: "bot admin", role_member: "member", sessionEnded: "Your session has ended: sign in again.",
    noScreens: "There is no screen for your role in this console yet.",
    deactivated: (at) => `This account is deactivated until ${at}: its deletion is pending, and until then only the deletion can be seen.`,
    deactivatedNoDate: "This account is deactivated: its deletion is pending, and until then only the deletion can be seen.",
    deactivatedCancel: "To keep the account, its owner cancels the deletion before that date on the Delete account screen: everything returns as it was.",
    deactivatedScreen: "This screen is closed while the account's deletion is pending.",
  },
  ru: {
    skip: "К содержимому", signout: "Выйти", language: "Язык", screens: "Разделы",
    notAllowed: "Вашей роли этот раздел недоступен.", notFound: "Такого раздела нет.",
    cancel: "Отмена", loading: "Загрузка…", failed: "Что-то пошло не так", signedInAs: "Вы вошли как",
    officer: "ответственный за персональные данные", role_owner: "владелец", role_account_admin: "администратор аккаунта",
    role_bot_admin: "администратор бота", role_member: "участник", sessionEnded: "Сеанс завершён: войдите снова.",
    noScreens: "Для вашей роли в этой консоли пока нет разделов.",
    deactivated: (at) => `Аккаунт деактивирован до ${at}: он ожидает удаления, и до этой даты доступно только само удаление.`,
    deactivatedNoDate: "Аккаунт деактивирован: он ожидает удаления, и до его завершения доступно только само удаление.",
    deactivatedCancel: "Чтобы сохранить аккаунт, владелец отменяет удаление до этой даты в разделе «Удаление аккаунта»: всё вернётся как было.",
    deactivatedScreen: "Пока аккаунт ожидает удаления, этот раздел закрыт.",
  },
};

// ApiError is what Lethe.api throws for an answer that is not 2xx: the problem's title, detail,
// field errors and status.
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    const fields = (p.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super([p.title || `HTTP ${status}`, p.detail, fields].filter(Boolean).join(" — "));
    this.status = status;
    this.title = p.title || "";
    this.detail = p.detail || "";
    this.errors = p.errors || [];
    this.problem = p;
  }
}

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export const Lethe = {
  lang: "en",
  me: null, // GET /v1/me for an account token
  operator: null, // GET /v1/ops/me for an operator token
  config: null, // /console/config.json

  token() { return sessionStorage.getItem(TOKEN) || ""; },
  // kind is "account" for a team member's token (it names an account), "ops" for an operator's.
  kind() {
    const t = this.token();
    if (!t) return "";
    return claimsOf(t).account_id ? "account" : "ops";
  },
  async signIn(token) {
    sessionStorage.setItem(TOKEN, token);
    await loadIdentity();
    // A hash change renders through the hashchange listener; the same hash is rendered here.
    const target = this.token() ? firstPage() || "#/" : "#/signin";
    if (location.hash !== target) location.hash = target;
    else await route();
  },
  signOut() {
    sessionStorage.removeItem(TOKEN);
    this.me = this.operator = null;
    if (location.hash !== "#/signin") location.hash = "#/signin";
    else route();
  },

  // api calls the API with the bearer token: JSON in, parsed JSON out (null for 204); an answer
  // that is not 2xx throws an ApiError carrying the problem.
  async api(path, opts = {}) {
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const t = this.token();
    if (t) headers.Authorization = "Bearer " + t;
    let body = opts.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const resp = await fetch(path, { method: opts.method || "GET", headers, body });
    const text = await resp.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = text; }
    }
    if (!resp.ok) throw new ApiError(resp.status, typeof data === "object" ? data : { detail: String(data || "") });
    return data;
  },

  // t looks a key up in the page's strings, then the shell's, in the current language, then English.
  t(key, page) {
    const tables = [page && page.strings && page.strings[this.lang], SHELL[this.lang], page && page.strings && page.strings.en, SHELL.en];
    for (const tb of tables) if (tb && key in tb) return tb[key];
    return key;
  },

  // setLang switches the language; remember: the person chose it, and it outlives the session.
  setLang(lang, remember) {
    this.lang = lang === "ru" ? "ru" : "en";
    if (remember) localStorage.setItem(LANG, this.lang);
    document.documentElement.lang = this.lang;
    const sel = document.getElementById("lang");
    if (sel) sel.value = this.lang;
  },

  // confirm asks once, in a dialog of the page: resolves true when the person confirms.
  confirm({ title, message, action }) {
    const dlg = document.getElementById("confirm");
    dlg.querySelector("#confirm-title").textContent = title || "";
    dlg.querySelector("#confirm-text").textContent = message || "";
    dlg.querySelector("#confirm-ok").textContent = action || "OK";
    dlg.querySelector("#confirm-cancel").textContent = this.t("cancel");
    dlg.returnValue = "";
    return new Promise((resolve) => {
      // The close event is queued: one from an earlier dialog can arrive after this one opened, so
      // only a close that leaves the dialog closed answers.
      const onClose = () => {
        if (dlg.open) return;
        dlg.removeEventListener("close", onClose);
        resolve(dlg.returnValue === "ok");
      };
      dlg.addEventListener("close", onClose);
      dlg.showModal();
      dlg.querySelector("#confirm-cancel").focus();
    });
  },

  // actFrame shows an act's HTML, as the API answers it, in a sandboxed frame of the page. A frame
  // of inline content inherits the console's CSP, which refuses inline styles: the act's own
  // <style> is taken out and the same stylesheet, served by the console (act.css), is linked
  // instead, which the CSP admits. The style block goes before the HTML is parsed (the parser
  // checks it against this page's CSP too); the act escapes every value, so no text of it can
  // open a <style>. Parsing runs no script and fetches nothing.
  actFrame(html, attrs = {}) {
    const doc = new DOMParser().parseFromString(html.replace(/<style[^>]*>[\s\S]*?<\/style>/gi, ""), "text/html");
    doc.querySelectorAll("style, script, link, meta[http-equiv]").forEach((e) => e.remove());
    const link = doc.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("act.css", document.baseURI).href;
    doc.head.append(link);
    return this.el("iframe", Object.assign({ class: "act", sandbox: "allow-same-origin",
      srcdoc: "<!DOCTYPE html>\n" + doc.documentElement.outerHTML }, attrs));
  },

  // refreshIdentity reads the signed-in person again and redraws the navigation and the banner,
  // not the screen: after the account's deletion is cancelled, its screens come back.
  async refreshIdentity() {
    await loadIdentity();
    renderChrome(shown);
  },

  // el builds an element: el("button", {type: "button", onclick}, "text", child…).
  el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k in e && typeof v !== "string") e[k] = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  },

  // fmtDate shows a time in the console's language.
  fmtDate(v, withTime = true) {
    if (!v) return "";
    const d = new Date(v);
    return withTime ? d.toLocaleString(this.lang === "ru" ? "ru-RU" : "en-GB") : d.toLocaleDateString(this.lang === "ru" ? "ru-RU" : "en-GB");
  },

  // errorBox is a readable error for a failed call.
  errorBox(err, page) {
    return this.el("p", { class: "error", role: "alert", "data-testid": "error" }, `${this.t("failed", page)}: ${err.message || err}`);
  },

  // onMore makes a "Show more" button load the next page: disabled while it loads, and a failed
  // load shown under root as a readable error.
  onMore(button, load, root, page) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await load();
      } catch (err) {
        root.append(this.errorBox(err, page));
      }
      button.disabled = false;
    });
  },
};
window.Lethe = Lethe;

let pages = [];
let shown = null; // the page the router last rendered
let routes = 0; // how many renders route has begun: only the latest may take the focus
let routed = 0; // how many have finished (body[data-routed], for whoever waits on the screen)

function roleOf() {
  if (Lethe.kind() === "ops") return "operator";
  return Lethe.me ? Lethe.me.role : "";
}

// deactivated reports whether the signed-in person's account is soft-deleted (its deletion pending).
function deactivated() {
  return !!(Lethe.me && Lethe.me.account && Lethe.me.account.status === "soft_deleted");
}

function allowed(p) {
  if (p.side === "public") return true;
  if (p.side !== Lethe.kind()) return false;
  if (deactivated() && !p.whileDeactivated) return false;
  return !p.roles || p.roles.length === 0 || p.roles.includes(roleOf());
}

// itemPage reports whether p is a screen of one item, reached by a link rather than the navigation.
function itemPage(p) { return p.route.endsWith("/"); }

function firstPage() {
  const p = pages.find((p) => p.side !== "public" && !itemPage(p) && allowed(p));
  return p ? p.route : "";
}

async function loadIdentity() {
  Lethe.me = Lethe.operator = Lethe.windowEnds = null;
  if (!Lethe.token()) return;
  try {
    if (Lethe.kind() === "account") {
      Lethe.me = await Lethe.api("/v1/me");
      if (!localStorage.getItem(LANG) && Lethe.me.account && Lethe.me.account.language) Lethe.setLang(Lethe.me.account.language);
      if (deactivated()) {
        // The banner's date: the end of the deletion's window. Roles that may not read the
        // deletion get the banner without it.
        const d = await Lethe.api("/v1/account/deletion").catch(() => null);
        const end = d && (d.clocks || []).find((c) => c.name === "soft_delete_ends");
        Lethe.windowEnds = end ? end.at : null;
      }
    } else {
      Lethe.operator = await Lethe.api("/v1/ops/me");
    }
  } catch (err) {
    // An expired or refused token: back to the sign-in, saying why.
    sessionStorage.removeItem(TOKEN);
    sessionStorage.setItem("lethe.signin.reason", err.status === 401 ? Lethe.t("sessionEnded") : err.message);
  }
}

function renderChrome(current) {
  document.querySelector(".skip").textContent = Lethe.t("skip");
  document.getElementById("nav").setAttribute("aria-label", Lethe.t("screens"));
  document.querySelector("#lang-label").textContent = Lethe.t("language");
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  const signedIn = !!Lethe.token();
  for (const p of pages) {
    if (p.side === "public" || itemPage(p) || !signedIn || !allowed(p)) continue;
    nav.append(Lethe.el("a", { href: p.route, "aria-current": p === current ? "page" : null }, p.title[Lethe.lang] || p.title.en));
  }
  const banner = document.getElementById("banner");
  banner.hidden = !deactivated();
  if (deactivated()) {
    const text = Lethe.windowEnds ? Lethe.t("deactivated")(Lethe.fmtDate(Lethe.windowEnds, false)) : Lethe.t("deactivatedNoDate");
    banner.replaceChildren(Lethe.el("strong", {}, text), " ", Lethe.t("deactivatedCancel"));
  }
  const out = document.getElementById("signout");
  out.hidden = !signedIn;
  out.textContent = Lethe.t("signout");
  const who = document.getElementById("who");
  if (Lethe.me) who.textContent = `${Lethe.me.name || Lethe.me.email} · ${Lethe.t("role_" + Lethe.me.role)}`;
  else if (Lethe.operator) who.textContent = `${Lethe.operator.name} · ${Lethe.t("officer")}`;
  else who.textContent = "";
}

// route renders the screen the hash names ("#/privacy?bot=…": the part after ? is its params).
async function route() {
  const mine = ++routes;
  const [path, query] = (location.hash || "#/").split("?");
  const params = new URLSearchParams(query || "");
  if (!Lethe.token() && path !== "#/signin") {
    location.replace("#/signin");
    return;
  }
  let page = pages.find((p) => p.route === path) ||
    pages.find((p) => itemPage(p) && path.startsWith(p.route) && path.length > p.route.length);
  if (!page || path === "#/") {
    const first = Lethe.token() ? firstPage() : "#/signin";
    if (first && first !== path) {
      location.replace(first);
      return;
    }
  }
  shown = page;
  renderChrome(page);
  const main = document.getElementById("main");
  main.replaceChildren();
  if (!page) {
    const none = Lethe.token() && !firstPage() && (path === "#/" || path === "");
    main.append(Lethe.el("p", { class: none ? "notice" : "error", role: "alert", "data-testid": none ? "no-screens" : "not-found" },
      Lethe.t(none ? "noScreens" : "notFound")));
    return;
  }
  if (!allowed(page)) {
    const closed = deactivated() && page.side === "account";
    main.append(Lethe.el("p", { class: "error", role: "alert", "data-testid": "not-allowed" }, Lethe.t(closed ? "deactivatedScreen" : "notAllowed")));
    return;
  }
  document.title = `${page.title[Lethe.lang] || page.title.en} · Lethe`;
  const ctx = {
    lang: Lethe.lang, me: Lethe.me, operator: Lethe.operator, params, api: Lethe.api.bind(Lethe),
    t: (k) => Lethe.t(k, page), el: Lethe.el.bind(Lethe), confirm: Lethe.confirm.bind(Lethe),
    navigate: (hash) => { location.hash = hash; }, page,
    rest: itemPage(page) ? decodeURIComponent(path.slice(page.route.length)) : "",
  };
  // Each render draws into its own view: a render still awaiting an answer when the hash changed
  // again (a sign-in sets the hash and routes) draws into a view no longer shown, never twice
  // into the page.
  const view = Lethe.el("div", { class: "view" });
  main.append(view);
  try {
    await page.render(view, ctx);
  } catch (err) {
    view.append(Lethe.errorBox(err, page));
  }
  // A render that finished after a newer one began (a slow screen left at once) leaves the focus
  // alone: it is where the person now types.
  if (mine === routes) main.focus({ preventScroll: true });
  document.body.dataset.routed = String(++routed);
}

// finishOIDC completes the Authorization Code flow when the provider sends the browser back with
// ?code=…&state=…: the code and the PKCE verifier are exchanged for the token.
async function finishOIDC() {
  const q = new URLSearchParams(location.search);
  if (!q.get("code") || !Lethe.config || !Lethe.config.oidc) return;
  const state = sessionStorage.getItem("lethe.oidc.state");
  const verifier = sessionStorage.getItem("lethe.oidc.verifier");
  sessionStorage.removeItem("lethe.oidc.state");
  sessionStorage.removeItem("lethe.oidc.verifier");
  // The code leaves the address bar at once; the sign-in page shows any error.
  history.replaceState(null, "", location.pathname + "#/signin");
  if (!state || q.get("state") !== state || !verifier) {
    sessionStorage.setItem("lethe.signin.reason", "The sign-in answer does not match this browser's request.");
    return;
  }
  const o = Lethe.config.oidc;
  const resp = await fetch(o.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code"), client_id: o.clientId,
      redirect_uri: location.origin + location.pathname, code_verifier: verifier }),
  });
  const tok = await resp.json().catch(() => ({}));
  // The API's JWT authorizer takes the ID token (its audience is the client); some providers put
  // the claims in the access token instead.
  const t = tok.id_token || tok.access_token;
  if (!resp.ok || !t) {
    sessionStorage.setItem("lethe.signin.reason", tok.error_description || tok.error || `HTTP ${resp.status}`);
    return;
  }
  sessionStorage.setItem(TOKEN, t);
  history.replaceState(null, "", location.pathname + "#/");
}

async function start() {
  Lethe.setLang(localStorage.getItem(LANG) || (navigator.language || "en").slice(0, 2));
  document.getElementById("lang").addEventListener("change", (e) => { Lethe.setLang(e.target.value, true); route(); });
  document.getElementById("signout").addEventListener("click", () => Lethe.signOut());
  pages = (await Promise.all(PAGES.map((p) => import(p)))).map((m) => m.default);
  try {
    Lethe.config = await Lethe.api("config.json");
  } catch {
    Lethe.config = { oidc: null };
  }
  await finishOIDC();
  await loadIdentity();
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
}

start();
