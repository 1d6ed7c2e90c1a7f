// The privacy officer's reports: requests received and completed and SLA breaches per month, with a
// small chart (GET /v1/ops/reports/monthly), and the retention sweep's monthly report
// (GET /v1/ops/reports/retention).
import { Lethe } from "../console.js";
import { label, count } from "../requestlabels.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// chart draws the months as pairs of bars (received, breaches), labelled, scaled to the largest.
function chart(months, t) {
  const w = 640, h = 220, pad = 28, top = 12;
  const max = Math.max(1, ...months.map((m) => Math.max(m.received, m.breaches)));
  const slot = (w - pad) / months.length;
  const bar = Math.max(4, Math.min(22, slot / 3));
  const y = (n) => top + (h - pad - top) * (1 - n / max);
  const g = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-labelledby": "chart-title", class: "chart", "data-testid": "monthly-chart" },
    svg("title", { id: "chart-title" }, t("chartTitle")));
  g.append(svg("line", { x1: pad, y1: h - pad, x2: w, y2: h - pad, stroke: "#6b7280" }));
  g.append(svg("text", { x: 2, y: top + 8, "font-size": 11, fill: "#4a5360" }, max));
  months.forEach((m, i) => {
    const x = pad + i * slot + slot / 2;
    g.append(svg("rect", { x: x - bar - 1, y: y(m.received), width: bar, height: h - pad - y(m.received), fill: "#1d4ed8" },
      svg("title", {}, `${m.month}: ${t("receivedN")(m.received)}`)));
    g.append(svg("rect", { x: x + 1, y: y(m.breaches), width: bar, height: h - pad - y(m.breaches), fill: "#b42318" },
      svg("title", {}, `${m.month}: ${t("breachesN")(m.breaches)}`)));
    g.append(svg("text", { x, y: h - 8, "font-size": 11, "text-anchor": "middle", fill: "#1b1f24" }, m.month.slice(2)));
  });
  return g;
}

export default {
  route: "#/ops/reports",
  side: "ops",
  roles: ["operator"],
  title: { en: "Reports", ru: "Отчёты" },
  strings: {
    en: {
      intro: "Requests and SLA breaches per month (Moscow time), and the retention sweep's monthly report.",
      months: "Months", show: "Show", month: "Month", received: "Received", completed: "Completed", breaches: "SLA breaches",
      receivedN: (n) => `${n} received`, breachesN: (n) => count("en", n, { one: "SLA breach", other: "SLA breaches" }),
      byDeadline: "Breaches by deadline", chartTitle: "Requests received (blue) and SLA breaches (red) per month",
      legendReceived: "Received", legendBreaches: "SLA breaches",
      retention: "Retention sweep report", retentionMonth: "Month (YYYY-MM)", runs: "Runs", asOf: "As of", category: "Category",
      deleted: "Deleted", objects: "Files", repaired: "TTL repaired", unrepairable: "Unrepairable", oldest: "Oldest kept",
      noRetention: "No retention sweep run finished in that month.",
    },
    ru: {
      intro: "Заявки и нарушения сроков по месяцам (московское время) и ежемесячный отчёт об удалении по срокам хранения.",
      months: "Месяцев", show: "Показать", month: "Месяц", received: "Получено", completed: "Выполнено", breaches: "Нарушения сроков",
      receivedN: (n) => `получено: ${n}`, breachesN: (n) => `нарушений сроков: ${n}`,
      byDeadline: "Нарушения по срокам", chartTitle: "Получено заявок (синим) и нарушений сроков (красным) по месяцам",
      legendReceived: "Получено", legendBreaches: "Нарушения сроков",
      retention: "Отчёт об удалении по срокам хранения", retentionMonth: "Месяц (ГГГГ-ММ)", runs: "Запусков", asOf: "На момент", category: "Категория",
      deleted: "Удалено", objects: "Файлов", repaired: "TTL исправлено", unrepairable: "Не исправить", oldest: "Самая старая запись",
      noRetention: "В этом месяце проход по срокам хранения не завершался.",
    },
  },

  async render(root, ctx) {
    const { t, el } = ctx;
    root.append(el("h1", {}, ctx.page.title[ctx.lang] || ctx.page.title.en), el("p", {}, t("intro")));
    const n = ctx.params.get("months") || "6";
    const months = el("select", { id: "rep-months" }, ["3", "6", "12", "24"].map((v) => el("option", { value: v }, v)));
    months.value = n;
    const form = el("form", { class: "row" }, el("div", {}, el("label", { for: "rep-months" }, t("months")), months),
      el("div", {}, el("button", { type: "submit" }, t("show"))));
    form.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate("#/ops/reports?months=" + months.value); });
    root.append(form);

    const monthly = el("section", { "data-testid": "monthly" });
    root.append(monthly);
    try {
      const rep = await ctx.api("/v1/ops/reports/monthly?months=" + encodeURIComponent(n));
      monthly.append(el("figure", {}, chart(rep.months, t),
        el("figcaption", {}, el("span", { class: "swatch received" }), t("legendReceived"), " ", el("span", { class: "swatch breaches" }), t("legendBreaches"))));
      monthly.append(el("div", { class: "scroll" }, el("table", { "data-testid": "monthly-table" },
        el("thead", {}, el("tr", {}, ["month", "received", "completed", "breaches", "byDeadline"].map((k) => el("th", { scope: "col" }, t(k))))),
        el("tbody", {}, rep.months.map((m) => el("tr", { "data-testid": "month-" + m.month },
          el("td", {}, m.month), el("td", {}, String(m.received)), el("td", {}, String(m.completed)), el("td", {}, String(m.breaches)),
          el("td", {}, Object.entries(m.breachesByDeadline).map(([k, v]) => `${label(ctx.lang, "deadline_" + k)}: ${v}`).join(", "))))))));
    } catch (err) {
      monthly.append(Lethe.errorBox(err, ctx.page));
    }

    const prev = new Date();
    prev.setUTCDate(1);
    prev.setUTCMonth(prev.getUTCMonth() - 1);
    const month = el("input", { id: "ret-month", value: ctx.params.get("retention") || prev.toISOString().slice(0, 7), pattern: "[0-9]{4}-[0-9]{2}", required: true });
    const out = el("div", { "aria-live": "polite" });
    const rform = el("form", { class: "panel" }, el("h2", {}, t("retention")),
      el("div", { class: "row" }, el("div", {}, el("label", { for: "ret-month" }, t("retentionMonth")), month),
        el("div", {}, el("button", { type: "submit", class: "secondary" }, t("show")))), out);
    const showRetention = async () => {
      out.replaceChildren();
      try {
        const r = await ctx.api("/v1/ops/reports/retention?month=" + encodeURIComponent(month.value));
        out.append(el("p", {}, `${r.reportId} · ${t("runs")}: ${r.runs} · ${t("asOf")}: ${Lethe.fmtDate(r.asOf)}`),
          el("div", { class: "scroll" }, el("table", { "data-testid": "retention-table" },
            el("thead", {}, el("tr", {}, ["category", "deleted", "objects", "repaired", "unrepairable", "oldest"].map((k) => el("th", { scope: "col" }, t(k))))),
            el("tbody", {}, Object.entries(r.categories).sort().map(([c, v]) => el("tr", {}, el("td", {}, label(ctx.lang, "cat_" + c)), el("td", {}, String(v.deleted)),
              el("td", {}, String(v.objects)), el("td", {}, String(v.repaired)), el("td", {}, String(v.unrepairable)),
              el("td", {}, v.oldest ? Lethe.fmtDate(v.oldest, false) : "")))))));
      } catch (err) {
        out.append(err.status === 404 ? el("p", { class: "notice" }, t("noRetention")) : Lethe.errorBox(err, ctx.page));
      }
    };
    rform.addEventListener("submit", (e) => { e.preventDefault(); showRetention(); });
    root.append(rform);
    await showRetention();
  },
};
