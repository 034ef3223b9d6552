/* 便民 Bianmin — the county dashboard (县级看板): every hall of the county now (GET .../live, every 10 s:
 * open windows, waiting, longest wait, alerts, and a stale mark when a hall has not been heard from), and
 * reports across the halls (GET .../reports?period&date&by&rank, CSV/XLSX with format=csv|xlsx): a total,
 * a row per hall, category or item, a ranking of the halls, and charts (the vendored Chart.js).
 *
 * For the county's managers and administrators of every hall (the server refuses everyone else: 403).
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const D = window.BianminDefinitions;
  const CASE_FIGURES = ["completion_rate", "on_time_rate"]; // of the cases (r.cases, h.cases), not the tickets
  const LEGEND = ["completion_rate", "on_time_rate", "cases", "served", "acceptance_rate", "by_agent", "satisfaction_rate"];
  const { el, $, api, fmt, clock, bi, toast } = B;
  const CONFIG = B.CONFIG;
  const LIVE_EVERY_MS = 10000;

  const state = { session: null, live: null, report: null, charts: {} };
  window.bianminCounty = {
    get live() {
      return state.live;
    },
    get report() {
      return state.report;
    },
    get ready() {
      return document.body.classList.contains("ready");
    },
  };

  // -- start and login ----------------------------------------------------------------------------

  function init() {
    $("#county-name").textContent = `${CONFIG.name_zh} ${CONFIG.name_en}`;
    $("#report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadReport();
    });
    $("#export-csv").addEventListener("click", () => exportReport("csv"));
    $("#export-xlsx").addEventListener("click", () => exportReport("xlsx"));
    if (window.Chart) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.animation = false;
    }
    setInterval(showClock, 1000);
    setInterval(() => state.session && refreshLive(), LIVE_EVERY_MS);
    B.staffPage({ hide: ["#denied", "#dashboard"], begin, onLogout: () => (state.session = null) });
    document.body.classList.add("ready");
  }

  function showClock() {
    $("#clock").textContent = fmt.time(new Date(clock.now()).toISOString());
  }

  async function begin(session) {
    state.session = session;
    try {
      await refreshLive(true);
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
    await loadReport();
  }

  // -- every hall now -----------------------------------------------------------------------------

  async function refreshLive(raise) {
    try {
      state.live = await api("GET", `${CONFIG.api}/live`);
    } catch (error) {
      if (raise) throw error;
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    clock.seen(state.live.now);
    showClock();
    renderLive();
  }

  function tile(key, zh, en, value, cls) {
    return el(
      "div",
      { class: `tile ${cls || ""}`, dataset: { figure: key } },
      el("div", { class: "value" }, String(value)),
      el("div", { class: "label" }, zh, " ", el("span", { class: "en" }, en)),
    );
  }

  function ago(seconds) {
    if (seconds === null || seconds === undefined) return bi("从未联系", "never heard from");
    if (seconds < 60) return bi(`${seconds}秒前`, `${seconds} s ago`);
    const minutes = Math.floor(seconds / 60);
    if (minutes < 120) return bi(`${minutes}分钟前`, `${minutes} min ago`);
    const hours = Math.floor(minutes / 60);
    return bi(`${hours}小时前`, `${hours} h ago`);
  }

  function renderLive() {
    const live = state.live;
    $("#live-at").textContent = fmt.dateTime(live.now);
    $("#live-figures").replaceChildren(
      tile("halls", "服务中心", "halls", live.halls.length),
      tile("open_windows", "开放窗口", "open windows", live.open_windows),
      tile("waiting", "等候人数", "waiting", live.waiting),
      tile("alerts", "提醒", "alerts", live.alerts, live.alerts ? "alerting" : ""),
      tile("stale", `失联（超过${live.stale_minutes}分钟）`, "not heard from", live.stale, live.stale ? "stale" : ""),
    );
    $("#hall-grid").replaceChildren(...live.halls.map(hallCard));
  }

  function hallCard(h) {
    const cls = ["hall-card", h.stale ? "stale" : "", h.alerts.length ? "alerting" : ""].join(" ");
    const number = (key, zh, en, value) =>
      el("div", { dataset: { figure: key } }, el("div", { class: "value" }, String(value)), el("div", { class: "label" }, zh, " ", el("span", { class: "en" }, en)));
    return el(
      "div",
      { class: cls, dataset: { hall: h.hall } },
      el(
        "div",
        { class: "head" },
        el("span", { class: "name", title: h.name_en }, h.name_zh),
        el("span", { class: "kind" }, ...(h.kind === "local" ? bi("本级", "local") : bi("乡镇", "township"))),
        h.stale ? el("span", { class: "stale-mark" }, "失联 Stale") : null,
      ),
      el(
        "div",
        { class: "numbers" },
        number("open_windows", "开放窗口", "open", `${h.open_windows}/${h.windows}`),
        number("waiting", "等候", "waiting", h.waiting),
        number("longest_wait", "最长等候", "longest", fmt.duration(h.longest_wait_s)),
        number("issued_today", "今日取号", "issued", h.issued_today),
        number("served_today", "今日办结", "served", h.served_today),
        number("paused_windows", "暂停", "paused", h.paused_windows),
      ),
      el(
        "div",
        { class: "heard" },
        "最近联系 ",
        ...ago(h.silent_s),
        h.kind === "township" && h.last_heard ? ` · 数据截至 ${fmt.dateTime(h.as_of)}` : "",
        h.backlog ? ` · 待上报 ${h.backlog} 条 (${h.backlog} events to come)` : "",
      ),
      ...h.alerts.map((a) => el("div", { class: `hall-alert ${a.kind}` }, a.message_zh, " ", el("span", { class: "en" }, a.message_en))),
    );
  }

  // -- reports across halls -----------------------------------------------------------------------

  function reportQuery(format) {
    const form = $("#report-form");
    const params = new URLSearchParams({
      period: form.elements.period.value,
      date: form.elements.date.value || fmt.today(),
      by: form.elements.by.value,
      rank: form.elements.rank.value,
    });
    if (format) params.set("format", format);
    return params.toString();
  }

  async function loadReport() {
    const form = $("#report-form");
    if (!form.elements.date.value) form.elements.date.value = fmt.today(); // by the server's clock
    try {
      state.report = await api("GET", `${CONFIG.api}/reports?${reportQuery()}`);
      renderReport();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  const RANK_LABELS = {
    served: ["服务人次", "visits served", (f) => f.served],
    issued: ["取号", "issued", (f) => f.issued],
    completion_rate: ["办结率", "completion rate", (f, c) => fmt.rate(c ? c.completion_rate : null)],
    on_time_rate: ["按时办结率", "on-time rate", (f, c) => fmt.rate(c ? c.on_time_rate : null)],
    acceptance_rate: ["受理率", "visits accepted", (f) => fmt.rate(f.acceptance_rate)],
    satisfaction_rate: ["满意率", "satisfaction", (f) => fmt.rate(f.satisfaction_rate)],
    by_agent: ["委托代办", "by agent", (f) => f.by_agent],
    avg_wait_s: ["平均等候(分)", "mean wait (min)", (f) => fmt.minutes(f.avg_wait_s)],
    p90_wait_s: ["90%等候(分)", "p90 wait (min)", (f) => fmt.minutes(f.p90_wait_s)],
  };
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
  const KINDS = { day: ["日报", "daily"], week: ["周报", "weekly"], month: ["月报", "monthly"], year: ["年报", "yearly"] };

  function renderReport() {
    const r = state.report;
    const kind = KINDS[r.period];
    $("#report-title").replaceChildren(
      `${r.name_zh} ${r.label_zh} ${kind[0]}`,
      " ",
      el("span", { class: "en" }, `${r.name_en}, ${kind[1]} report, ${r.label_en}`),
    );
    const t = r.total;
    $("#report-figures").replaceChildren(
      tile("issued", "取号", "issued", t.issued),
      tile("served", "服务人次", "visits served", t.served),
      tile("by_agent", "委托代办", "by agent", t.by_agent),
      tile("completion_rate", "办结率", "completion rate", fmt.rate(r.cases ? r.cases.completion_rate : null), "rate"),
      tile("on_time_rate", "按时办结率", "on-time rate", fmt.rate(r.cases ? r.cases.on_time_rate : null), "rate"),
      tile("satisfaction_rate", "满意率", "satisfaction", fmt.rate(t.satisfaction_rate), "rate"),
      tile("avg_wait", "平均/90%等候(分)", "mean / p90 wait", `${fmt.minutes(t.avg_wait_s)} / ${fmt.minutes(t.p90_wait_s)}`),
      tile("staff", "人员 / 窗口", "staff / windows", `${t.staff} / ${t.windows}`),
    );
    $("#rows-title").replaceChildren(`按${r.by_label_zh} `, el("span", { class: "en" }, `by ${r.by_label_en}`));
    const row = (label, key, f, c, cls) =>
      el(
        "tr",
        { class: cls || "", dataset: { row: key } },
        el("td", {}, label),
        ...COLUMNS.map(([name, , value]) => el("td", { class: "num", dataset: { figure: name } }, String(value(f, c)))),
      );
    $("#rows").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, r.by_label_zh), ...COLUMNS.map(([name, label]) => el("th", { class: "num", dataset: { define: name } }, label)))),
      el(
        "tbody",
        {},
        row("合计 Total", "total", r.total, r.cases, "total"),
        ...r.rows.map((g) => row(g.label_zh, g.key === null ? "none" : g.key, g.figures, g.cases)),
      ),
    );
    const [zh, en, show] = RANK_LABELS[r.rank_by];
    $("#ranking-title").replaceChildren(`排名（${zh}） `, el("span", { class: "en" }, `Ranking by ${en}`));
    const figures = Object.fromEntries(r.halls.map((h) => [h.hall, h]));
    $("#ranking").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "名次"), el("th", {}, "服务中心 ", el("span", { class: "en" }, "Hall")), el("th", { class: "num" }, zh))),
      el(
        "tbody",
        {},
        ...r.ranking.map((x) =>
          el("tr", { dataset: { hall: x.hall } }, el("td", { class: "rank" }, x.rank === null ? "—" : String(x.rank)), el("td", {}, x.name_zh), el("td", { class: "num" }, String(show(figures[x.hall].figures, figures[x.hall].cases)))),
        ),
      ),
    );
    $("#chart-rank-title").replaceChildren(`各中心${zh} `, el("span", { class: "en" }, `${en} per hall`));
    $("#report-legend").replaceChildren(D.legend(LEGEND));
    D.explain($("#dashboard"));
    renderCharts(r);
  }

  function chart(id, config) {
    if (!window.Chart) return;
    if (state.charts[id]) state.charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    state.charts[id] = new Chart(document.getElementById(id), config);
  }

  function rankValue(figure, h) {
    const f = CASE_FIGURES.includes(figure) ? h.cases || {} : h.figures;
    const v = f[figure];
    if (v === null || v === undefined) return null;
    if (figure.endsWith("_rate")) return Math.round(v * 1000) / 10;
    if (figure.endsWith("_s")) return Math.round(v / 6) / 10;
    return v;
  }

  function renderCharts(r) {
    const ranked = r.ranking.map((x) => r.halls.find((h) => h.hall === x.hall));
    chart("chart-rank", {
      type: "bar",
      data: {
        labels: ranked.map((h) => h.name_zh),
        datasets: [{ label: RANK_LABELS[r.rank_by][0], data: ranked.map((h) => rankValue(r.rank_by, h)), backgroundColor: "#0f4c97", maxBarThickness: 22 }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
    });
    chart("chart-cases", {
      type: "bar",
      data: {
        labels: r.halls.map((h) => h.name_zh),
        datasets: [
          { label: "直接办理 direct", data: r.halls.map((h) => h.figures.on_the_spot), backgroundColor: "#1f9d55" },
          { label: "委托代办 by agent", data: r.halls.map((h) => h.figures.by_agent), backgroundColor: "#e8a100" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
    });
    B.show($("#daily-box"), r.period !== "day");
    if (r.period !== "day") {
      chart("chart-daily", {
        type: "line",
        data: {
          labels: r.daily.map((d) => d.date.slice(5)),
          datasets: [
            { label: "取号 issued", data: r.daily.map((d) => d.issued), borderColor: "#0f4c97", backgroundColor: "#0f4c97", pointRadius: 2 },
            { label: "办结 served", data: r.daily.map((d) => d.served), borderColor: "#1f9d55", backgroundColor: "#1f9d55", pointRadius: 2 },
          ],
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }
  }

  async function exportReport(kind) {
    try {
      const response = await api("GET", `${CONFIG.api}/reports?${reportQuery(kind)}`, undefined, { response: true });
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const blob = await response.blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : `county.${kind}` });
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
