// The Conversations screen (issue 17, seed: bot-platform-data-deletion.txt).
export default {
  route: "#/conversations",
  side: "account",
  roles: ["owner", "account_admin", "bot_admin", "member"],
  title: { en: "Conversations", ru: "Диалоги" },
  strings: { en: {}, ru: {} },
  async render(root, { el, page, lang }) {
    root.append(el("h1", {}, page.title[lang]));
  },
};
