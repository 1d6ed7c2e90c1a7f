// The Activity logs screen (issue 17, seed: bot-platform-data-deletion.txt).
export default {
  route: "#/activity",
  side: "account",
  roles: ["owner", "account_admin"],
  title: { en: "Activity logs", ru: "Журнал действий" },
  strings: { en: {}, ru: {} },
  async render(root, { el, page, lang }) {
    root.append(el("h1", {}, page.title[lang]));
  },
};
