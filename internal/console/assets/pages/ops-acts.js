// Acts of destruction (privacy officers): find acts by request, account or the dates they were
// drawn up, read one in the page, and download each as a printable HTML page, a PDF or its JSON
// record; export the journal of destruction for a period as CSV.
import { Lethe } from "../console.js";

// download fetches path with the officer's token and saves it under name; it answers what it saved.
async function download(path, name) {
  const resp = await fetch(path, { headers: { Authorization: "Bearer " + Lethe.token() } });
  if (!resp.ok) {
    let p = {};
    try { p = await resp.json(); } catch { /* not a problem body */ }
    throw new Error([p.title || `HTTP ${resp.status}`, p.detail].filter(Boolean).join(" — "));
  }
  const blob = await resp.blob();
  const head = new Uint8Array(await blob.slice(0, 5).arrayBuffer());
  const url = URL.createObjectURL(blob);
  const a = Lethe.el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return { type: (resp.headers.get("content-type") || "").split(";")[0], size: blob.size, head: String.fromCharCode(...head) };
}

// fetchText fetches path with the officer's token and answers its text.
async function fetchText(path) {
  const resp = await fetch(path, { headers: { Authorization: "Bearer " + Lethe.token() } });
  const text = await resp.text();
  if (!resp.ok) {
    let p = {};
    try { p = JSON.parse(text); } catch { /* not a problem body */ }
    throw new Error([p.title || `HTTP ${resp.status}`, p.detail].filter(Boolean).join(" — "));
  }
  return text;
}

export default {
  route: "#/ops/acts",
  side: "ops",
  roles: ["operator"],
  title: { en: "Acts of destruction", ru: "Акты об уничтожении" },
  strings: {
    en: {
      intro: "The acts of destruction and event-log extracts (Roskomnadzor Order No. 179) drawn up for each round of a deletion. Without a filter: the last 31 days.",
      request: "Request id", account: "Account id", from: "Drawn up from", to: "Drawn up to", search: "Find acts",
      none: "No act matches.", act: "Act", kind: "Request kind", round: "Round", drawnUp: "Drawn up", get: "Download",
      html: "HTML", pdf: "PDF", json: "JSON", journal: "Journal of destruction (CSV) for these dates",
      view: "Read", actOf: (id) => `Act ${id}`, open: "Read or download",
      downloaded: (name, r) => `Downloaded ${name}: ${r.type}, ${r.size} bytes.`,
      journalDates: "Give both dates for the journal.",
    },
    ru: {
      intro: "Акты об уничтожении и выгрузки из журнала (приказ Роскомнадзора № 179), составленные по каждому этапу удаления. Без фильтров — за последний 31 день.",
      request: "ID заявки", account: "ID аккаунта", from: "Составлен с", to: "Составлен по", search: "Найти акты",
      none: "Актов не найдено.", act: "Акт", kind: "Вид заявки", round: "Этап", drawnUp: "Составлен", get: "Скачать",
      html: "HTML", pdf: "PDF", json: "JSON", journal: "Журнал уничтожения (CSV) за эти даты",
      view: "Открыть", actOf: (id) => `Акт ${id}`, open: "Открыть или скачать",
      downloaded: (name, r) => `Скачан ${name}: ${r.type}, ${r.size} байт.`,
      journalDates: "Для журнала укажите обе даты.",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    const field = (id, label, attrs = {}) => {
      const input = el("input", Object.assign({ id, name: id, autocomplete: "off", value: ctx.params.get(id.replace("acts-", "")) || "" }, attrs));
      return [input, el("div", {}, el("label", { for: id }, label), input)];
    };
    const [request, requestBox] = field("acts-request", t("request"));
    const [account, accountBox] = field("acts-account", t("account"));
    const [from, fromBox] = field("acts-from", t("from"), { type: "date" });
    const [to, toBox] = field("acts-to", t("to"), { type: "date" });
    const results = el("section", { "aria-live": "polite" });
    const frameBox = el("section", { "data-testid": "act-view" });
    const status = el("p", { role: "status", "data-testid": "acts-download" });
    const form = el("form", { class: "panel", "aria-label": t("search") },
      el("div", { class: "row" }, requestBox, accountBox, fromBox, toBox, el("div", {}, el("button", { type: "submit" }, t("search")))));
    const journal = el("button", { type: "button", class: "secondary", "data-testid": "acts-journal" }, t("journal"));
    root.append(el("h1", {}, ctx.page.title[ctx.lang]), el("p", {}, t("intro")), form, el("p", {}, journal), status, results, frameBox);

    const save = async (path, name) => {
      try {
        status.textContent = t("downloaded")(name, await download(path, name));
      } catch (err) {
        status.replaceChildren(Lethe.errorBox(err, ctx.page));
      }
    };
    journal.addEventListener("click", () => {
      if (!from.value || !to.value) {
        status.replaceChildren(el("span", { class: "error", role: "alert" }, t("journalDates")));
        return;
      }
      const q = new URLSearchParams({ from: from.value, to: to.value });
      save("/v1/ops/exports/journal.csv?" + q, `journal-${from.value}-${to.value}.csv`);
    });

    // view shows the act in the page, below the list.
    const view = (a) => el("button", { type: "button", "data-testid": `act-view-${a.id}`, "aria-label": `${t("view")} ${t("act")} ${a.id}`,
      onclick: async () => {
        try {
          const html = await fetchText("/v1/ops/acts/" + encodeURIComponent(a.id) + "?format=html");
          frameBox.replaceChildren(Lethe.actFrame(html, { title: t("actOf")(a.id), "data-testid": "act-frame" }));
          frameBox.scrollIntoView();
        } catch (err) {
          frameBox.replaceChildren(Lethe.errorBox(err, ctx.page));
        }
      } }, t("view"));

    async function search() {
      const q = new URLSearchParams();
      for (const [k, input] of [["request", request], ["account", account], ["from", from], ["to", to]]) {
        if (input.value.trim()) q.set(k, input.value.trim());
      }
      const page = await ctx.api("/v1/ops/acts?" + q);
      results.replaceChildren();
      if (page.items.length === 0) {
        results.append(el("p", { "data-testid": "acts-none" }, t("none")));
        return;
      }
      const tbody = el("tbody");
      results.append(el("div", { class: "scroll" }, el("table", { "data-testid": "acts" },
        el("thead", {}, el("tr", {}, ["act", "account", "kind", "round", "drawnUp", "open"].map((k) => el("th", { scope: "col" }, t(k))))),
        tbody)));
      for (const a of page.items) {
        const base = "/v1/ops/acts/" + encodeURIComponent(a.id) + "?format=";
        const button = (fmt) => el("button", { type: "button", class: "secondary", "data-testid": `act-${fmt}-${a.id}`,
          "aria-label": `${t("get")} ${t("act")} ${a.id} ${t(fmt)}`, onclick: () => save(base + fmt, `act-${a.id}.${fmt}`) }, t(fmt));
        tbody.append(el("tr", {}, el("td", {}, el("code", {}, a.id)), el("td", {}, a.accountId), el("td", {}, a.kind),
          el("td", {}, String(a.round)), el("td", {}, Lethe.fmtDate(a.drawnUpAt)),
          el("td", {}, view(a), " ", button("html"), " ", button("pdf"), " ", button("json"))));
      }
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      search().catch((err) => results.replaceChildren(Lethe.errorBox(err, ctx.page)));
    });
    await search().catch((err) => results.replaceChildren(Lethe.errorBox(err, ctx.page)));
  },
};
