/* 便民 Bianmin — the city rollup (市级汇总): the headline table of the city's counties (GET .../headline: centers,
 * windows, staff, cases handled, direct versus agent cases, 办结率, 满意率, per county and in total) and the
 * report across every hall of the city (GET .../reports?period&date&by, CSV/XLSX with format=csv|xlsx), with
 * charts per county (the vendored Chart.js).
 *
 * For the city's managers and administrators of every hall (the server refuses everyone else: 403).
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const D = window.BianminDefinitions;
  const LEGEND = ["completion_rate", "on_time_rate", "cases", "served", "acceptance_rate", "by_agent", "satisfaction_rate"];
  const { el, $, api, fmt, clock, toast } = B;
  const CONFIG = B.CONFIG;

  const state = { session: null, headline: null, report: null, charts: {} };
  window.bianminCity = {
    get headline() {
      return state.headline;
    },
    get report() {
      return state.report;
    },
    get ready() {
      return document.body.classList.contains("ready");
    },
  };

  function init() {
    $("#city-name").textContent = `${CONFIG.name_zh} ${CONFIG.name_en}`;
    clock.seen(CONFIG.now); // the server's clock: its today is the report's default date
    showClock();
    $("#report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("#export-headline").addEventListener("click", () => download("headline", "xlsx"));
    $("#export-csv").addEventListener("click", () => download("reports", "csv"));
    $("#export-xlsx").addEventListener("click", () => download("reports", "xlsx"));
    if (window.Chart) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.animation = false;
    }
    setInterval(showClock, 1000);
    B.staffPage({ hide: ["#denied", "#dashboard"], begin, onLogout: () => (state.session = null) });
    document.body.classList.add("ready");
  }

  function showClock() {
    $("#clock").textContent = fmt.time(new Date(clock.now()).toISOString());
  }

  async function begin(session) {
    state.session = session;
    const form = $("#report-form");
    if (!form.elements.date.value) form.elements.date.value = fmt.today();
    try {
      await load(true);
    } catch (error) {
      if (error.status === 403 || error.status === 404) {
        $("#denied-text").textContent = B.errorText(error);
        B.show($("#denied"), true);
      } else if (error.status !== 401) {
        toast(B.errorText(error), "error");
      }
      return;
    }
    B.show($("#dashboard"), true);
  }

  function query(extra) {
    const form = $("#report-form");
    const params = new URLSearchParams({ period: form.elements.period.value, date: form.elements.date.value || fmt.today() });
    for (const [key, value] of Object.entries(extra || {})) params.set(key, value);
    return params.toString();
  }

  async function load(raise) {
    const by = $("#report-form").elements.by.value;
    try {
      const [headline, report] = await Promise.all([
        api("GET", `${CONFIG.api}/headline?${query()}`),
        api("GET", `${CONFIG.api}/reports?${query({ by })}`),
      ]);
      state.headline = headline;
      state.report = report;
    } catch (error) {
      if (raise) throw error;
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    renderHeadline();
    renderRows();
    renderCharts();
  }

  function tile(key, zh, en, value, cls) {
    return el(
      "div",
      { class: `tile ${cls || ""}`, dataset: { figure: key } },
      el("div", { class: "value" }, String(value)),
      el("div", { class: "label" }, zh, " ", el("span", { class: "en" }, en)),
    );
  }

  const KINDS = { day: ["日报", "daily"], week: ["周报", "weekly"], month: ["月报", "monthly"], year: ["年报", "yearly"] };
  const HEADLINE = [
    ["centers", "服务中心", "centers", (r) => r.centers],
    ["windows", "窗口", "windows", (r) => r.windows],
    ["windows_used", "办件窗口", "windows used", (r) => r.windows_used],
    ["staff", "工作人员", "staff", (r) => r.staff],
    ["served", "服务人次", "visits served", (r) => r.served],
    ["on_the_spot", "直接办理", "direct", (r) => r.on_the_spot],
    ["by_agent", "委托代办", "by agent", (r) => r.by_agent],
    ["cases", "受理件数", "cases", (r) => r.cases],
    ["completion_rate", "办结率", "completion", (r) => fmt.rate(r.completion_rate)],
    ["on_time_rate", "按时办结率", "on time", (r) => fmt.rate(r.on_time_rate)],
    ["satisfaction_rate", "满意率", "satisfaction", (r) => fmt.rate(r.satisfaction_rate)],
  ];

  function renderHeadline() {
    const h = state.headline;
    const kind = KINDS[h.period];
    $("#headline-title").replaceChildren(
      `${h.name_zh} ${h.label_zh} ${kind[0]} 汇总`,
      " ",
      el("span", { class: "en" }, `${h.name_en}, ${kind[1]} headline, ${h.label_en}`),
    );
    const t = h.total;
    $("#headline-figures").replaceChildren(
      tile("centers", "服务中心", "centers", t.centers),
      tile("windows", "窗口", "windows", t.windows),
      tile("staff", "工作人员", "staff", t.staff),
      tile("served", "服务人次", "visits served", t.served),
      tile("cases", "受理件数", "cases", t.cases),
      tile("by_agent", "委托代办", "by agent", t.by_agent),
      tile("completion_rate", "办结率 / 按时", "completion / on time", `${fmt.rate(t.completion_rate)} / ${fmt.rate(t.on_time_rate)}`, "rate"),
      tile("satisfaction_rate", "满意率", "satisfaction", fmt.rate(t.satisfaction_rate), "rate"),
    );
    $("#headline-legend").replaceChildren(D.legend(LEGEND));
    const line = (r, cls) =>
      el(
        "tr",
        { class: cls || "", dataset: { county: r.county === null ? "total" : r.county } },
        el("td", {}, r.name_zh, " ", el("span", { class: "en" }, r.name_en)),
        ...HEADLINE.map(([key, , , value]) => el("td", { class: "num", dataset: { figure: key } }, String(value(r)))),
      );
    $("#headline").replaceChildren(
      el(
        "thead",
        {},
        el("tr", {}, el("th", {}, "县（市、区） ", el("span", { class: "en" }, "County")), ...HEADLINE.map(([key, zh, en]) => el("th", { class: "num", dataset: { define: key } }, zh, el("br"), el("span", { class: "en" }, en)))),
      ),
      el("tbody", {}, ...h.counties.map((r) => line(r)), line(t, "total")),
    );
    D.explain($("#headline").closest("section") || document.body);
  }

  const LEVELS = [
    ["very_satisfied", "非常满意"],
    ["satisfied", "满意"],
    ["basic", "基本满意"],
    ["dissatisfied", "不满意"],
    ["very_dissatisfied", "非常不满意"],
  ];
  const COLUMNS = [
    ["issued", "取号", (f) => f.issued],
    ["served", "服务人次", (f) => f.served],
    ["on_the_spot", "直接办理", (f) => f.on_the_spot],
    ["by_agent", "委托代办", (f) => f.by_agent],
    ["acceptance_rate", "受理率", (f) => fmt.rate(f.acceptance_rate)],
    ["cases", "受理件数", (f, c) => (c ? c.cases : 0)],
    ["completion_rate", "办结率", (f, c) => fmt.rate(c ? c.completion_rate : null)],
    ["on_time_rate", "按时办结率", (f, c) => fmt.rate(c ? c.on_time_rate : null)],
    ["satisfaction_rate", "满意率", (f) => fmt.rate(f.satisfaction_rate)],
    ...LEVELS.map(([code, zh]) => [`rating-${code}`, zh, (f) => f.ratings[code]]),
    ["avg_wait", "平均等候(分)", (f) => fmt.minutes(f.avg_wait_s)],
    ["p90_wait", "90%等候(分)", (f) => fmt.minutes(f.p90_wait_s)],
    ["staff", "人员", (f) => f.staff],
    ["windows", "窗口", (f) => f.windows],
    ...B.CASE_CLASSES.map((c) => [`case-${c.code}`, c.zh, (f) => f.case_classes[c.code]]),
  ];

  function renderRows() {
    const r = state.report;
    $("#rows-title").replaceChildren(`报表：按${r.by_label_zh} `, el("span", { class: "en" }, `Report by ${r.by_label_en}`));
    const row = (label, key, f, c, cls) =>
      el(
        "tr",
        { class: cls || "", dataset: { row: key } },
        el("td", {}, label),
        ...COLUMNS.map(([name, , value]) => el("td", { class: "num", dataset: { figure: name } }, String(value(f, c)))),
      );
    $("#rows").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, r.by_label_zh), ...COLUMNS.map(([name, label]) => el("th", { class: "num", dataset: { define: name } }, label)))),
      el("tbody", {}, row("合计 Total", "total", r.total, r.cases, "total"), ...r.rows.map((g) => row(g.label_zh, g.key === null ? "none" : g.key, g.figures, g.cases))),
    );
    D.explain($("#rows"));
  }

  function chart(id, config) {
    if (!window.Chart) return;
    if (state.charts[id]) state.charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    state.charts[id] = new Chart(document.getElementById(id), config);
  }

  function renderCharts() {
    const counties = state.headline.counties;
    const labels = counties.map((c) => c.name_zh);
    chart("chart-cases", {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "直接办理 direct", data: counties.map((c) => c.on_the_spot), backgroundColor: "#1f9d55" },
          { label: "委托代办 by agent", data: counties.map((c) => c.by_agent), backgroundColor: "#e8a100" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
    });
    const pct = (v) => (v === null ? null : Math.round(v * 1000) / 10);
    chart("chart-rates", {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "办结率 % completion", data: counties.map((c) => pct(c.completion_rate)), backgroundColor: "#0f4c97" },
          { label: "满意率 % satisfaction", data: counties.map((c) => pct(c.satisfaction_rate)), backgroundColor: "#7c3aed" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
    });
  }

  async function download(what, kind) {
    const extra = what === "reports" ? { by: $("#report-form").elements.by.value, format: kind } : { format: kind };
    try {
      const response = await api("GET", `${CONFIG.api}/${what}?${query(extra)}`, undefined, { response: true });
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const blob = await response.blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : `city.${kind}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } catch (error) {
      toast(B.errorText(error), "error");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
