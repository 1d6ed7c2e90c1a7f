// The Inbox screen (issue 17, seed: bot-platform-data-deletion.txt).
export default {
  route: "#/inbox",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin"],
  title: { en: "Inbox", ru: "Входящие" },
  strings: { en: {}, ru: {} },
  async render(root, { el, page, lang }) {
    root.append(el("h1", {}, page.title[lang]));
  },
};
