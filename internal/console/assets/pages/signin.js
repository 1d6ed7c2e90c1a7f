// Sign-in: through the OIDC provider (Authorization Code with PKCE) when config.json names one;
// in the local run, a list of the demo identities of /_local/demo, each a one-click sign-in.
import { Lethe } from "../console.js";

function b64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function startOIDC(o) {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem("lethe.oidc.verifier", verifier);
  sessionStorage.setItem("lethe.oidc.state", state);
  const u = new URL(o.authorizeUrl);
  u.search = new URLSearchParams({ response_type: "code", client_id: o.clientId, redirect_uri: location.origin + location.pathname,
    scope: o.scope || "openid", state, code_challenge: challenge, code_challenge_method: "S256" }).toString();
  location.assign(u.toString());
}

export default {
  route: "#/signin",
  side: "public",
  roles: [],
  title: { en: "Sign in", ru: "Вход" },
  strings: {
    en: {
      heading: "Sign in to Lethe", oidc: "Sign in", noSignIn: "No sign-in is configured for this console (CONSOLE_OIDC_AUTHORIZE_URL).",
      demo: "Demo identities (local run only)", demoHint: "Pick who to be; each button signs in with that person's token.",
      officers: "Privacy officers", signInAs: "Sign in as", signedIn: "You are signed in.", open: "Open the console",
      account: "Account",
    },
    ru: {
      heading: "Вход в Lethe", oidc: "Войти", noSignIn: "Вход для этой консоли не настроен (CONSOLE_OIDC_AUTHORIZE_URL).",
      demo: "Демо-пользователи (только локальный запуск)", demoHint: "Выберите, кем войти; кнопка входит с токеном этого человека.",
      officers: "Ответственные за персональные данные", signInAs: "Войти как", signedIn: "Вы вошли.", open: "Открыть консоль",
      account: "Аккаунт",
    },
  },
  async render(root, { t, el }) {
    root.append(el("h1", {}, t("heading")));
    const reason = sessionStorage.getItem("lethe.signin.reason");
    if (reason) {
      sessionStorage.removeItem("lethe.signin.reason");
      root.append(el("p", { class: "error", role: "alert" }, reason));
    }
    if (Lethe.token()) {
      root.append(el("p", {}, t("signedIn")), el("a", { class: "button", href: "#/" }, t("open")));
      return;
    }
    const cfg = Lethe.config || {};
    if (cfg.oidc) {
      root.append(el("p", {}, el("button", { type: "button", "data-testid": "oidc-signin", onclick: () => startOIDC(cfg.oidc) }, t("oidc"))));
    } else if (!cfg.demo) {
      root.append(el("p", { class: "notice" }, t("noSignIn")));
    }
    if (!cfg.demo) return;
    const demo = await Lethe.api(cfg.demo);
    root.append(el("h2", {}, t("demo")), el("p", { class: "notice" }, t("demoHint")));
    const cards = el("div", { class: "cards" });
    for (const a of demo.accounts || []) {
      const card = el("section", { class: "card", "aria-label": `${t("account")} ${a.fullName}` },
        el("h3", {}, `${a.fullName} (${a.locale})`));
      for (const m of a.members || []) {
        const role = Lethe.t("role_" + m.role);
        card.append(el("button", { type: "button", class: "secondary", "data-testid": `signin-${m.sub}`, "data-account": a.id, "data-role": m.role,
          "aria-label": `${t("signInAs")} ${m.fullName}, ${role}, ${a.fullName}`,
          onclick: () => Lethe.signIn(m.token) }, `${m.fullName} · ${role}`));
      }
      cards.append(card);
    }
    if ((demo.officers || []).length) {
      const card = el("section", { class: "card", "aria-label": t("officers") }, el("h3", {}, t("officers")));
      for (const o of demo.officers) {
        card.append(el("button", { type: "button", class: "secondary", "data-testid": `signin-${o.sub}`, "data-role": "operator",
          "aria-label": `${t("signInAs")} ${o.name}, ${Lethe.t("officer")}`, onclick: () => Lethe.signIn(o.token) }, o.name));
      }
      cards.append(card);
    }
    root.append(cards);
  },
};
