/* 便民 Bianmin — the hall manager's dashboard (中心主任).
 *
 * Four tabs: the live wall (GET .../wall, re-read after every event on the hall's websocket and every
 * 15 s; its timers tick by the server's clock), reports with charts and CSV/XLSX exports
 * (GET .../reports[.csv|.xlsx]), the audit trail (GET .../events with filters, newest first), and the
 * staff accounts (GET/POST/PATCH /api/v1/staff, administrators only).
 * 好差评 (GET .../ratings?bad=true): the 满意率 and counts per level of the period, and the bad ratings
 * with their follow-up (POST .../ratings/{id}/follow-up: open → contacted → rectified, with a note).
 * The wall also shows today's appointments (GET .../appointments?day=, at most every 15 s).
 * Every figure shown is the server's, computed from the hall's event log; a figure that does not
 * exist (the satisfaction rate while nothing has been rated) is shown as "—", never as 0.
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, fmt, clock, bi, toast } = B;
  const CONFIG = B.CONFIG;
  const WALL_EVERY_MS = 15000;
  const DAY_CHART_EVERY_MS = 20000; // the day's charts: re-read with the wall, at most this often

  const state = {
    session: null,
    setup: null,
    wall: null,
    wallAt: 0,
    report: null,
    audit: [],
    staffAudit: [],
    staff: [],
    ratings: null,
    appointments: null,
    appointmentsAt: 0,
    dayChart: null,
    dayChartAt: 0,
    auditBefore: [], // the `before` cursor of each page shown so far (null: the newest page)
    auditPage: null,
    charts: {},
    link: null,
    tab: "wall",
  };
  window.bianminDashboard = {
    get wall() {
      return state.wall;
    },
    get report() {
      return state.report;
    },
    get staff() {
      return state.staff;
    },
    get audit() {
      return state.audit;
    },
    get staffAudit() {
      return state.staffAudit;
    },
    get ratings() {
      return state.ratings;
    },
    get appointments() {
      return state.appointments;
    },
    get dayChart() {
      return state.dayChart;
    },
    get auditPage() {
      return state.auditPage;
    },
    get ready() {
      return document.body.classList.contains("ready");
    },
  };

  const AUDIT_PAGE = 100;
  const EVENT_TYPES = [
    ["", "全部 All"],
    ["ticket.*", "号票 Tickets"],
    ["window.*", "窗口 Windows"],
    ["ticket.issued", "取号 Issued"],
    ["ticket.called", "叫号 Called"],
    ["ticket.recalled", "重呼 Recalled"],
    ["ticket.started", "开始办理 Started"],
    ["ticket.finished", "办结 Finished"],
    ["ticket.no_show", "过号 No-show"],
    ["ticket.transferred", "转移 Transferred"],
    ["ticket.requeued", "重新排队 Re-queued"],
    ["ticket.returned", "退回队列 Returned to queue"],
    ["window.opened", "开窗 Opened"],
    ["window.paused", "暂停 Paused"],
    ["window.resumed", "恢复 Resumed"],
    ["window.taken_over", "接管 Taken over"],
    ["window.closed", "关窗 Closed"],
    ["day.closed", "日终 Day closed"],
    ["complaint.*", "投诉举报 Complaints"],
    ["complaint.filed", "投诉受理 Complaint filed"],
    ["complaint.handling", "投诉处理 Complaint taken up"],
    ["complaint.answered", "投诉答复 Complaint answered"],
  ];
  const EVENT_LABELS = Object.fromEntries(EVENT_TYPES.filter(([k]) => k && !k.endsWith("*")));

  // -- start and login ----------------------------------------------------------------------------

  function init() {
    $("#hall-name").textContent = CONFIG.name_zh;
    for (const button of document.querySelectorAll("#tabs [data-tab]")) {
      button.addEventListener("click", () => switchTab(button.dataset.tab));
    }
    $("#report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadReport();
    });
    $("#export-csv").addEventListener("click", () => exportReport("csv"));
    $("#export-xlsx").addEventListener("click", () => exportReport("xlsx"));
    $("#audit-type").replaceChildren(...EVENT_TYPES.map(([value, label]) => el("option", { value }, label)));
    $("#audit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadAudit("first");
    });
    $("#audit-more").addEventListener("click", () => loadAudit("older"));
    $("#audit-newer").addEventListener("click", () => loadAudit("newer"));
    $("#staff-audit-more").addEventListener("click", () => loadStaffAudit(true));
    $("#staff-form").addEventListener("submit", addStaff);
    $("#ratings-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadRatings();
    });
    for (const button of document.querySelectorAll("dialog [data-close]")) {
      button.addEventListener("click", () => button.closest("dialog").close(""));
    }
    if (window.Chart) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.animation = false;
    }
    setInterval(tick, 1000);
    setInterval(() => state.session && state.tab === "wall" && refreshWall(), WALL_EVERY_MS);
    B.staffPage({ hide: ["#denied", "#tabs", "section.tab"], begin, onLogout: () => (state.session = null) });
    document.body.classList.add("ready");
  }

  async function begin(session) {
    state.session = session;
    if (session.role !== "manager" && session.role !== "admin") {
      B.show($("#denied"), true);
      return;
    }
    try {
      state.setup = await api("GET", "console/setup");
    } catch (error) {
      toast(B.errorText(error), "error");
      return;
    }
    B.show($("#tabs"), true);
    B.show($('#tabs [data-tab="staff"]'), session.role === "admin");
    if (!state.link) {
      state.link = B.live(
        () =>
          state.tab === "wall"
            ? refreshWall()
            : state.tab === "ratings"
              ? loadRatings()
              : state.tab === "complaints" && window.bianminComplaints.load(),
        (online) => {
          const mark = $("#link-state");
          mark.classList.toggle("online", online);
          mark.replaceChildren(...(online ? bi("在线", "Live") : bi("离线", "Offline")));
        },
        400,
      );
    }
    await refreshWall();
    switchTab(state.tab);
    if (state.tab !== "ratings") loadRatings(); // the tab's count of open follow-ups
    if (window.bianminComplaints) window.bianminComplaints.load(); // and of complaints not answered (complaints.js)
  }

  function switchTab(tab) {
    if (tab === "staff" && state.session.role !== "admin") tab = "wall";
    state.tab = tab;
    for (const button of document.querySelectorAll("#tabs [data-tab]")) {
      button.classList.toggle("active", button.dataset.tab === tab);
    }
    for (const section of document.querySelectorAll("section.tab")) {
      B.show(section, section.id === `tab-${tab}`);
    }
    if (tab === "wall") refreshWall();
    else if (tab === "reports" && !state.report) loadReport();
    else if (tab === "audit") {
      if (!state.audit.length) loadAudit("first");
      loadStaffAudit(false);
    }
    else if (tab === "staff") loadStaff();
    else if (tab === "ratings") loadRatings();
  }

  // -- names --------------------------------------------------------------------------------------

  function category(code) {
    return state.setup.categories.find((c) => c.code === code) || { name_zh: code, name_en: code, prefix: "" };
  }

  // -- figures ------------------------------------------------------------------------------------

  /** What each figure means (the legend under the figures, and each tile's tooltip); as the server
   * computes them (queue_server/reports/figures.py and day_chart.py). */
  const DEFINITIONS = {
    issued: ["取号：当天取出的号票数（含预约签到）。", "Issued: tickets issued (appointments checked in included)."],
    served: ["办结登记：窗口以六类办件之一办结登记的号票数。", "Served: tickets finished at a window with one of the six case classes."],
    no_shows: ["过号：被标记过号且未再办理的号票数。", "No-shows: tickets marked as no-shows and never served."],
    avg_wait: ["平均等候：取号至首次叫号的平均分钟数（已叫号的号票）。", "Mean wait: issue to first call, in minutes, of the tickets called."],
    max_wait: ["最长等候：取号至首次叫号的最长分钟数。", "Longest wait: the longest issue-to-first-call time."],
    avg_service: ["平均办理：开始办理至办结的平均分钟数。", "Mean service: start to finish, in minutes."],
    min_service: ["最短办理：开始办理至办结的最短分钟数。", "Shortest service time."],
    max_service: ["最长办理：开始办理至办结的最长分钟数。", "Longest service time."],
    on_the_spot: ["现场办理：办结登记中，除代理件以外的件数。", "On the spot: served, less those by an agent."],
    by_agent: ["代办：代理件数。", "By agent: cases handled by an agent (代理件)."],
    remote: [
      "远程取号：本期在手机上远程取号的个数；其下为到厅签到、未按时签到（未到）和取消的个数。签到后按普通号计入取号。",
      "Remote tickets: places taken on the phone; below, how many were checked in, missed (no-shows) and cancelled. Checked in, each counts as an issued ticket.",
    ],
    completion_rate: [
      "办结率 = 本期办结件数 ÷ 本期受理件数（按办件计，非按取号）；按时办结率 = 在办结期限内办结的 ÷ 已办结的。",
      "Completion rate = cases completed ÷ cases opened in the period (cases, not tickets); on time = completed by their due date ÷ completed.",
    ],
    satisfaction_rate: ["满意率：好差评中基本满意及以上的比例（每号以最后一次评价计）；尚无评价时为“—”。", "Satisfaction: ratings of fairly satisfied or better ÷ ratings; “—” while none."],
    service_level: ["服务达标率：今日已叫号或仍在等候的群众中，在目标时间内被叫号的比例；仍在等候且已超过目标的计为未达标。", "Service level: of those called or still waiting today, the share called within the target; those still waiting past it count as missed."],
  };

  function renderLegend() {
    const list = $("#legend-list");
    if (list.childElementCount) return;
    const names = {
      issued: "取号", served: "办结登记", no_shows: "过号", avg_wait: "平均等候", max_wait: "最长等候",
      avg_service: "平均办理", min_service: "最短办理", max_service: "最长办理", on_the_spot: "现场办理",
      by_agent: "代办", remote: "远程取号", completion_rate: "办结率", satisfaction_rate: "满意率", service_level: "服务达标率",
    };
    list.replaceChildren(
      ...Object.entries(DEFINITIONS).flatMap(([key, [zh, en]]) => [
        el("dt", { dataset: { figure: key } }, names[key]),
        el("dd", { dataset: { figure: key } }, zh, " ", el("span", { class: "en", lang: "en" }, en)),
      ]),
      el("dt", {}, "六类办件"),
      el("dd", {}, "即办件、承诺件、补办件、联办件、退回件、代理件：窗口办结时登记的类别，各计件数。",
        el("span", { class: "en", lang: "en" }, " The six case classes a clerk gives each finished visit, counted.")),
    );
  }

  function tile(key, zh, en, value, extra) {
    const definition = DEFINITIONS[key];
    return el(
      "div",
      {
        class: `tile ${extra ? extra.class || "" : ""}`,
        dataset: { figure: key },
        title: definition ? `${definition[0]}\n${definition[1]}` : null,
      },
      el("div", { class: "value" }, value),
      el("div", { class: "label" }, zh, " ", el("span", { class: "en", lang: "en" }, en)),
      extra && extra.note ? el("div", { class: "note" }, extra.note) : null,
    );
  }

  /** The figure tiles, the same on the wall and in reports (data-figure names the figure). */
  function renderFigures(box, f, c) {
    const notRated = f.satisfaction_rate === null;
    box.replaceChildren(
      el(
        "div",
        { class: "figure-row" },
        tile("issued", "取号", "issued", f.issued),
        tile("served", "办结登记", "served", f.served),
        tile("no_shows", "过号", "no-shows", f.no_shows),
        tile("avg_wait", "平均等候(分)", "avg wait", fmt.minutes(f.avg_wait_s)),
        tile("max_wait", "最长等候(分)", "longest wait", fmt.minutes(f.max_wait_s)),
        tile("avg_service", "平均办理(分)", "avg service", fmt.minutes(f.avg_service_s)),
        tile("min_service", "最短办理(分)", "shortest", fmt.minutes(f.min_service_s)),
        tile("max_service", "最长办理(分)", "longest", fmt.minutes(f.max_service_s)),
        tile("on_the_spot", "现场办理", "on the spot", f.on_the_spot),
        tile("by_agent", "代办", "by agent", f.by_agent),
        tile("completion_rate", "办结率", "completion rate", fmt.rate(c ? c.completion_rate : null), {
          class: "rate",
          // The rate's own counts beside it: what it is made of, and how many were on time.
          note: c ? `办结 ${c.completed}/${c.cases} 件 · 按时办结率 ${fmt.rate(c.on_time_rate)}` : "尚无办件",
        }),
        tile("satisfaction_rate", "满意率", "satisfaction", fmt.rate(f.satisfaction_rate), {
          class: "rate",
          note: notRated ? "尚无评价 not yet rated" : `${f.rated} 条评价`,
        }),
      ),
      el(
        "div",
        { class: "figure-row cases" },
        ...B.CASE_CLASSES.map((c) => tile(`case-${c.code}`, c.zh, c.en, f.case_classes[c.code])),
      ),
    );
    if (window.BianminDefinitions) window.BianminDefinitions.explain(box); // 口径: each figure's definition as its tooltip
  }

  // -- the wall -----------------------------------------------------------------------------------

  const wallReads = B.newest();
  async function refreshWall() {
    if (!state.session) return;
    const asked = wallReads.ask();
    try {
      const wall = await api("GET", "wall");
      if (!wallReads.fresh(asked)) return; // a later read is on screen already
      state.wall = wall;
      clock.seen(wall.now);
      state.wallAt = clock.now();
      renderWall();
      document.dispatchEvent(new CustomEvent("bianmin:wall")); // the cases tab names categories from the wall
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    if (Date.now() - state.appointmentsAt >= WALL_EVERY_MS) await loadAppointments();
  }

  // -- today's appointments -------------------------------------------------------------------------

  const APPOINTMENT_STATES = [
    ["booked", "已预约", "booked"],
    ["checked_in", "已签到取号", "checked in"],
    ["missed", "已失约", "missed"],
    ["cancelled", "已取消", "cancelled"],
  ];

  async function loadAppointments() {
    if (!state.wall || !state.wall.day) return;
    state.appointmentsAt = Date.now();
    try {
      state.appointments = await api("GET", `appointments?day=${encodeURIComponent(state.wall.day)}`);
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    const counts = state.appointments.counts;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    $("#appointment-figures").replaceChildren(
      tile("total", "预约总数", "all", total),
      ...APPOINTMENT_STATES.map(([key, zh, en]) =>
        tile(key, zh, en, counts[key] ?? 0, { class: key === "missed" && counts[key] ? "warn" : "" }),
      ),
    );
  }

  function renderWall() {
    const wall = state.wall;
    $("#wall-day").textContent = wall.day || "";
    const alerts = $("#alerts");
    B.show(alerts, wall.alerts.length > 0);
    alerts.replaceChildren(
      ...wall.alerts.map((a) =>
        el(
          "div",
          { class: `alert ${a.kind}`, dataset: { kind: a.kind, category: a.category, window: a.window } },
          el("strong", {}, { wait: "等候超时", pause: "暂停超时", calendar: "工作日历", case_overdue: "办件逾期", case_due_soon: "办件将到期", complaint_overdue: "投诉逾期" }[a.kind] || a.kind),
          " ",
          a.message_zh,
          el("span", { class: "en" }, ` ${a.message_en}`),
        ),
      ),
    );
    renderFigures($("#today-figures"), wall.today, wall.today_cases);
    renderLegend();
    if (Date.now() - state.dayChartAt >= DAY_CHART_EVERY_MS) loadDayChart();
    renderUplink(wall.link);
    renderDevices(wall.devices || []);
    $("#windows").replaceChildren(...wall.windows.map(windowCard));
    $("#categories").replaceChildren(
      ...wall.categories.map((c) =>
        el(
          "tr",
          { class: c.alert ? "alert-row" : "", dataset: { category: c.code } },
          el("td", {}, el("span", { class: "swatch", style: `background:${c.colour}` }), `${c.prefix} ${c.name_zh}`),
          el("td", { class: "num waiting" }, c.waiting),
          el("td", { class: "num longest", dataset: { base: c.longest_wait_s ?? "" } }, fmt.duration(c.longest_wait_s)),
          el("td", { class: "num" }, c.estimated_wait_s === null ? "—" : `${Math.round(c.estimated_wait_s / 60)} 分`),
          el("td", { class: "num" }, `${c.wait_alert_minutes} 分`),
        ),
      ),
    );
    tick();
  }

  // -- the day's charts (GET .../wall/day, from the event log) -------------------------------------

  async function loadDayChart() {
    state.dayChartAt = Date.now();
    try {
      state.dayChart = await api("GET", "wall/day");
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    renderDayChart();
  }

  const HOURS = (hours) => {
    const busy = hours.filter((h) => h.queue_max > 0 || h.called > 0).map((h) => h.hour);
    const first = Math.min(8, ...busy);
    const last = Math.max(17, ...busy);
    return hours.slice(first, last + 1);
  };

  function loadChart(id, boxId, loads, label) {
    const hours = (s) => Math.round((s / 3600) * 100) / 100;
    $(`#${boxId}`).style.height = `${Math.max(8, 3 + loads.length * 1.6)}rem`;
    chart(id, {
      type: "bar",
      data: {
        labels: loads.map(label),
        datasets: [
          { label: "办理中 serving", data: loads.map((l) => hours(l.serving_s)), backgroundColor: "#0f4c97" },
          { label: "空闲 idle", data: loads.map((l) => hours(l.idle_s)), backgroundColor: "#9aa5b4" },
          { label: "暂停 paused", data: loads.map((l) => hours(l.paused_s)), backgroundColor: "#c2410c" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } },
    });
  }

  function renderDayChart() {
    const day = state.dayChart;
    const level = day.service_level;
    $("#service-level").replaceChildren(
      `服务达标率（${level.target_minutes}分钟内叫号） `,
      el("b", {}, fmt.rate(level.rate)),
      ` ${level.within}/${level.counted} `,
      el("span", { class: "en", lang: "en" }, `called within ${level.target_minutes} min`),
    );
    $("#service-level").title = DEFINITIONS.service_level.join("\n");
    const hours = HOURS(day.hours);
    const labels = hours.map((h) => `${h.hour}时`);
    chart("chart-queue", {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: "平均 mean", data: hours.map((h) => h.queue_mean), borderColor: "#0f4c97", backgroundColor: "#0f4c97" },
          { label: "最多 max", data: hours.map((h) => (h.queue_mean === null ? null : h.queue_max)), borderColor: "#b45309", backgroundColor: "#b45309", borderDash: [6, 4] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const minutes = (s) => (s === null ? null : Math.round(s / 6) / 10);
    chart("chart-wait", {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "平均 mean", data: hours.map((h) => minutes(h.wait_mean_s)), backgroundColor: "#0f4c97", maxBarThickness: 28 },
          { label: "最长 longest", data: hours.map((h) => minutes(h.wait_max_s)), backgroundColor: "#b45309", maxBarThickness: 28 },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
    const names = new Map((state.setup.windows || []).map((w) => [String(w.number), w.name_zh]));
    loadChart("chart-load-windows", "load-windows-box", day.windows, (l) => `${l.key}号 ${names.get(l.key) || ""}`);
    const clerks = new Map(state.wall.windows.filter((w) => w.clerk).map((w) => [w.clerk, w.clerk_name]));
    loadChart("chart-load-clerks", "load-clerks-box", day.clerks, (l) => clerks.get(l.key) || l.key);
  }

  /** Each LED strip and caller keypad as `bianmin devices` last reported it (hidden when the hall has none). */
  function renderDevices(devices) {
    B.show($("#devices-panel"), devices.length > 0);
    $("#device-links").replaceChildren(
      ...devices.map((d) =>
        el(
          "li",
          { class: d.state === "connected" ? "" : "warn", dataset: { device: d.id, state: d.state } },
          `${d.window}号窗口 ${d.name} `,
          el("strong", {}, d.state_zh),
          el("span", { class: "en", lang: "en" }, ` ${d.state}${d.detail ? ": " + d.detail : ""}`),
        ),
      ),
    );
  }

  /** The hall's link up to its county (none: the panel stays hidden): how far the county has it, what waits. */
  function renderUplink(link) {
    B.show($("#uplink-panel"), Boolean(link));
    if (!link) return;
    $("#uplink-url").textContent = link.url;
    const ok = link.last_error === null;
    $("#uplink-figures").replaceChildren(
      tile("uplink_state", "状态", "state", ok ? "正常" : "异常", { class: ok ? "" : "warn", note: ok ? "OK" : "failing" }),
      tile("uplink_acked", "县级已确认", "acknowledged up to", link.acked_seq, { note: `共 ${link.newest_seq} 条 events` }),
      tile("uplink_waiting", "待上报", "waiting", link.waiting, { class: link.waiting && !ok ? "warn" : "" }),
      tile("uplink_contact", "最近联系", "last contact", link.last_contact ? fmt.time(link.last_contact) : "—", {
        note: link.last_contact ? link.last_contact.slice(0, 10) : "从未 never",
      }),
    );
    const error = $("#uplink-error");
    B.show(error, !ok);
    error.textContent = ok ? "" : `${link.error_at ? fmt.time(link.error_at) + " " : ""}${link.last_error}`;
    renderDownlink(link.documents || []);
  }

  const DOCUMENT_KINDS = { catalogue: ["服务事项目录", "catalogue"], calendar: ["工作日历", "calendar"] };

  /** Link down: the county's catalogue and calendar here, the version staged for tomorrow, any refused. */
  function renderDownlink(documents) {
    $("#downlink").replaceChildren(
      ...documents.map((d) => {
        const [zh, en] = DOCUMENT_KINDS[d.kind];
        const parts = [
          el("span", { class: "kind" }, `县级${zh} `, el("span", { class: "en" }, en)),
          el("span", { dataset: { running: d.running ?? "" } },
            d.running ? `运行 v${d.running} running` : "本地版本 local only"),
        ];
        if (d.staged) parts.push(el("span", { class: "staged" }, `v${d.staged} 次日生效 from the next day start`));
        if (d.refused) parts.push(el("span", { class: "warn" }, `v${d.refused} 未通过校验，未使用 refused`));
        if (d.error) parts.push(el("span", { class: "warn" }, d.error));
        const item = el("li", { dataset: { document: d.kind } }, ...parts);
        if (d.refusal) item.append(el("pre", { class: "refusal" }, d.refusal));
        return item;
      }),
    );
  }

  function windowCard(w) {
    const [zh, en] = B.WINDOW_STATES[w.state];
    const current = w.current_number
      ? el(
          "div",
          { class: "serving" },
          el("span", { class: "number" }, w.current_number),
          el("span", { class: `badge ${w.current_state}` }, B.TICKET_STATES[w.current_state][0]),
        )
      : el("div", { class: "serving idle" }, w.state === "open" ? "空闲 idle" : "");
    return el(
      "div",
      {
        class: `window-card ${w.state} ${w.pause_alert ? "alert" : ""}`,
        dataset: { window: w.number, state: w.state, current: w.current_number || "" },
      },
      el(
        "div",
        { class: "window-head" },
        el("strong", {}, `${w.number}号`),
        el("span", { class: "name" }, w.name_zh),
        el("span", { class: `badge ${w.state}` }, zh, " ", el("span", { class: "en" }, en)),
      ),
      el(
        "div",
        { class: "clerk" },
        w.clerk_name ? [w.clerk_name, " ", el("span", { class: "badge" }, `${w.post}岗`)] : el("span", { class: "en" }, "—"),
      ),
      current,
      el(
        "div",
        { class: "times" },
        w.serving_s !== null
          ? el("span", { class: "timer", dataset: { base: w.serving_s } }, "办理 ", el("b", {}, fmt.duration(w.serving_s)))
          : null,
        w.state === "paused"
          ? el(
              "span",
              { class: "paused" },
              `暂停：${w.paused_reason || ""} `,
              el("b", { class: "timer", dataset: { base: w.state_s } }, fmt.duration(w.state_s)),
            )
          : null,
      ),
    );
  }

  function tick() {
    $("#clock").textContent = state.session ? fmt.time(new Date(clock.now()).toISOString()) : "";
    if (!state.wall) return;
    const late = Math.max(0, (clock.now() - state.wallAt) / 1000);
    for (const node of document.querySelectorAll("#windows .timer[data-base]")) {
      const target = node.querySelector("b") || node;
      target.textContent = fmt.duration(Number(node.dataset.base) + late);
    }
    for (const node of document.querySelectorAll("#categories .longest")) {
      if (node.dataset.base !== "") node.textContent = fmt.duration(Number(node.dataset.base) + late);
    }
  }

  // -- reports ------------------------------------------------------------------------------------

  function reportQuery() {
    const form = $("#report-form");
    const params = new URLSearchParams({
      period: form.elements.period.value,
      date: form.elements.date.value || fmt.today(),
      by: form.elements.by.value,
    });
    return params.toString();
  }

  async function loadReport() {
    const form = $("#report-form");
    if (!form.elements.date.value) {
      if (!state.wall) await refreshWall();
      // The hall's service day by the server's clock: a hall PC's own date is often wrong.
      form.elements.date.value = (state.wall && state.wall.day) || fmt.today();
    }
    try {
      state.report = await api("GET", `reports?${reportQuery()}`);
      renderReport();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  const GROUP_COLUMNS = [
    ["issued", "取号", (f) => f.issued],
    ["called", "叫号", (f) => f.called],
    ["served", "办结", (f) => f.served],
    ["no_shows", "过号", (f) => f.no_shows],
    ["avg_wait", "平均等候(分)", (f) => fmt.minutes(f.avg_wait_s)],
    ["max_wait", "最长等候(分)", (f) => fmt.minutes(f.max_wait_s)],
    ["avg_service", "平均办理(分)", (f) => fmt.minutes(f.avg_service_s)],
    ["on_the_spot", "现场", (f) => f.on_the_spot],
    ["by_agent", "代办", (f) => f.by_agent],
    ["completion_rate", "办结率", (f, c) => fmt.rate(c ? c.completion_rate : null)], // of the group's cases
    ["satisfaction_rate", "满意率", (f) => fmt.rate(f.satisfaction_rate)],
    ...B.CASE_CLASSES.map((c) => [`case-${c.code}`, c.zh, (f) => f.case_classes[c.code]]),
  ];

  function renderReport() {
    const report = state.report;
    const kind = { day: ["日报", "daily report"], week: ["周报", "weekly report"], month: ["月报", "monthly report"] };
    $("#report-title").replaceChildren(
      `${report.label_zh} ${kind[report.period][0]}`,
      " ",
      el("span", { class: "en" }, `${kind[report.period][1]}, ${report.label_en}`),
    );
    renderFigures($("#report-figures"), report.totals, report.cases && report.cases.totals);
    const remote = report.remote; // 远程取号 by its outcome (reports/remote.py); none taken: no tile
    if (remote) {
      $("#report-figures .figure-row").append(
        tile("remote", "远程取号", "remote tickets", remote.taken, {
          note: `签到 ${remote.checked_in} · 未到 ${remote.missed} · 取消 ${remote.cancelled}`,
        }),
      );
    }
    const cases = Object.fromEntries(((report.cases || {})[`by_${report.by}`] || []).map((x) => [x.key, x.figures]));
    const byLabel = { category: "业务类别", window: "窗口", clerk: "工作人员" }[report.by];
    $("#groups-title").replaceChildren(`按${byLabel} `, el("span", { class: "en" }, `by ${report.by}`));
    const row = (label, key, f, cls, c) =>
      el(
        "tr",
        { class: cls || "", dataset: { group: key } },
        el("td", {}, label),
        ...GROUP_COLUMNS.map(([name, , value]) => el("td", { class: "num", dataset: { figure: name } }, value(f, c))),
      );
    $("#groups").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, byLabel), ...GROUP_COLUMNS.map(([, label]) => el("th", { class: "num" }, label)))),
      el(
        "tbody",
        {},
        row("合计 Total", "total", report.totals, "total", report.cases && report.cases.totals),
        ...report.groups.map((g) => row(g.label_zh, g.key === null ? "none" : g.key, g.figures, "", cases[g.key])),
      ),
    );
    renderCharts(report);
  }

  function chart(id, config) {
    if (!window.Chart) return;
    if (state.charts[id]) state.charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    state.charts[id] = new Chart(document.getElementById(id), config);
  }

  function renderCharts(report) {
    const hours = report.hourly_arrivals;
    const busy = hours.map((n, h) => (n ? h : null)).filter((h) => h !== null);
    const first = Math.min(8, ...busy);
    const last = Math.max(17, ...busy);
    const span = hours.slice(first, last + 1);
    chart("chart-hourly", {
      type: "bar",
      data: {
        labels: span.map((_, i) => `${first + i}时`),
        datasets: [{ label: "取号 issued", data: span, backgroundColor: "#0f4c97", maxBarThickness: 40 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    chart("chart-waits", {
      type: "bar",
      data: {
        labels: report.wait_bins.map((b) => (b.to_min === null ? `≥${b.from_min}` : `${b.from_min}–${b.to_min}`)),
        datasets: [{ label: "人数 tickets", data: report.wait_bins.map((b) => b.count), backgroundColor: "#e8a100", maxBarThickness: 48 }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const items = report.service_by_item.slice(0, 12);
    $("#chart-items").parentElement.style.height = `${Math.max(8, 3 + items.length * 1.9)}rem`;
    chart("chart-items", {
      type: "bar",
      data: {
        labels: items.map((s) => `${s.name_zh}（${s.served}件）`),
        datasets: [{ label: "平均办理(分) avg min", data: items.map((s) => Math.round(s.avg_service_s / 6) / 10), backgroundColor: "#1f9d55", maxBarThickness: 22 }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
    });
    B.show($("#daily-box"), report.period !== "day");
    if (report.period !== "day") {
      chart("chart-daily", {
        type: "bar",
        data: {
          labels: report.daily.map((d) => d.date.slice(5)),
          datasets: [
            { label: "取号 issued", data: report.daily.map((d) => d.issued), backgroundColor: "#0f4c97" },
            { label: "办结 served", data: report.daily.map((d) => d.served), backgroundColor: "#1f9d55" },
          ],
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }
  }

  async function exportReport(kind, path) {
    try {
      const response = await api("GET", path || `reports.${kind}?${reportQuery()}`, undefined, { response: true });
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const blob = await response.blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : `report.${kind}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } catch (error) {
      toast(B.errorText(error), "error");
    }
  }

  // -- the audit trail ----------------------------------------------------------------------------

  function details(event) {
    const p = event.payload || {};
    const parts = [];
    if (event.type === "ticket.finished") {
      const c = B.CASE_CLASSES.find((x) => x.code === p.case_class);
      parts.push(c ? c.zh : p.case_class);
      if (p.due_date) parts.push(`期限 ${p.due_date}`);
      if (p.missing_materials && p.missing_materials.length) parts.push(`缺：${p.missing_materials.join("、")}`);
      if (p.next_department) parts.push(`联办：${p.next_department}`);
      if (p.reason) parts.push(`原因：${p.reason}`);
      if (p.agent_name) parts.push(`代办人：${p.agent_name}`);
    } else if (event.type === "ticket.issued") {
      parts.push(category(p.category).name_zh);
      if (p.priority && p.priority !== "ordinary") parts.push("绿色通道");
    } else if (event.type === "ticket.transferred") {
      parts.push(p.to_window ? `转往${p.to_window}号窗口` : `转往${category(p.to_category).name_zh}`);
      if (p.reason) parts.push(`原因：${p.reason}`);
    } else if (event.type === "ticket.called" && p.rule === "out_of_order") {
      parts.push(`指定叫号：${p.reason || ""}`);
    } else if (event.type === "window.paused") {
      parts.push(`原因：${p.reason || ""}`);
    } else if (event.type === "window.taken_over") {
      parts.push(`接管自 ${p.from || ""}（${p.from_post || ""}岗）`);
    } else if (event.type === "day.closed") {
      parts.push(`${p.day}，过期 ${p.expired}`);
    }
    return parts.join("；");
  }

  /** One page of the audit trail, newest first: `direction` "first" (a new search), "older" or "newer". */
  async function loadAudit(direction) {
    const form = $("#audit-form");
    const params = new URLSearchParams({ order: "desc", limit: String(AUDIT_PAGE) });
    for (const name of ["from", "to", "actor", "window", "type", "number", "q"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    let cursors = state.auditBefore;
    if (direction === "older" && state.audit.length) cursors = [...cursors, state.audit[state.audit.length - 1].seq];
    else if (direction === "newer") cursors = cursors.slice(0, -1);
    else if (direction !== "older") cursors = [];
    const before = cursors.length ? cursors[cursors.length - 1] : null;
    if (before !== null) params.set("before", String(before));
    try {
      const page = await api("GET", `events?${params}`);
      state.auditBefore = cursors;
      state.audit = page.events;
      state.auditPage = { offset: page.offset, total: page.total, shown: page.events.length };
      $("#audit-rows").replaceChildren(
        ...page.events.map((e) =>
          el(
            "tr",
            { dataset: { seq: e.seq, type: e.type } },
            el("td", {}, fmt.dateTime(e.at)),
            el("td", {}, EVENT_LABELS[e.type] || e.type),
            el("td", {}, e.actor_name ? `${e.actor_name}（${e.actor}）` : e.actor === "system" ? "系统 System" : e.actor || "—"),
            el("td", { class: "num" }, e.window ?? "—"),
            el("td", {}, e.post ? `${e.post}岗` : "—"),
            el("td", { class: "ticket" }, (e.payload && e.payload.number) || "—"),
            el("td", { class: "details" }, details(e)),
          ),
        ),
      );
      B.show($("#audit-empty"), page.total === 0);
      const last = page.offset + page.events.length;
      $("#audit-position").replaceChildren(
        page.total ? `第 ${page.offset + 1}–${last} 条，共 ${page.total} 条` : "共 0 条",
        " ",
        el("span", { class: "en", lang: "en" }, page.total ? `${page.offset + 1}–${last} of ${page.total}` : "none"),
      );
      B.show($("#audit-newer"), page.offset > 0);
      B.show($("#audit-more"), last < page.total);
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  // -- the staff and device audit (GET .../staff-audit, newest first) ------------------------------------

  const ROLE_NAMES = {
    admin: "系统管理员",
    manager: "中心主任",
    clerk: "窗口工作人员",
    county_manager: "县级主管",
    city_manager: "市级主管",
  };

  function staffDetails(entry) {
    const d = entry.details || {};
    const parts = [];
    if (entry.action === "login.locked") {
      if (d.scope === "address") parts.push("该地址的所有账号");
      else parts.push(d.account === "unknown" ? "该地址的不存在账号" : "该地址的此账号");
      parts.push(`失败 ${d.failures} 次，锁定 ${d.seconds} 秒`);
    } else {
      if (d.role) parts.push(`角色：${ROLE_NAMES[d.role] || d.role}`);
      if (d.display_name) parts.push(`姓名：${d.display_name}`);
      if (d.active === false) parts.push("停用");
      if (d.active === true) parts.push("启用");
      if ("halls" in d) parts.push(`大厅：${d.halls ? d.halls.join("、") : "全部"}`);
    }
    return parts.join("；");
  }

  async function loadStaffAudit(more) {
    const params = new URLSearchParams({ limit: "100" });
    const oldest = state.staffAudit[state.staffAudit.length - 1];
    if (more && oldest) params.set("before", String(oldest.id));
    try {
      const page = await api("GET", `staff-audit?${params}`);
      state.staffAudit = more ? [...state.staffAudit, ...page.entries] : page.entries;
      const rows = page.entries.map((e) =>
        el(
          "tr",
          { dataset: { id: e.id, action: e.action } },
          el("td", {}, fmt.dateTime(e.at)),
          el("td", {}, `${e.action_zh} `, el("span", { class: "en", lang: "en" }, e.action_en)),
          el("td", {}, e.actor_name ? `${e.actor_name}（${e.actor}）` : e.actor || "系统 system"),
          el("td", {}, e.subject || "—"),
          el("td", {}, e.source || "—"),
          el("td", { class: "details" }, staffDetails(e)),
        ),
      );
      if (more) $("#staff-audit-rows").append(...rows);
      else $("#staff-audit-rows").replaceChildren(...rows);
      B.show($("#staff-audit-empty"), state.staffAudit.length === 0);
      B.show($("#staff-audit-more"), page.entries.length === 100);
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  // -- 好差评 -------------------------------------------------------------------------------------------

  const LEVELS = [
    ["very_satisfied", "非常满意", "very satisfied"],
    ["satisfied", "满意", "satisfied"],
    ["basic", "基本满意", "fairly satisfied"],
    ["dissatisfied", "不满意", "dissatisfied"],
    ["very_dissatisfied", "非常不满意", "very dissatisfied"],
  ];
  // The national indicators (services/ratings.py INDICATORS, docs/haocha.md).
  const REASONS = { overall: "整体满意度", efficiency: "服务效率", level: "服务水平", attitude: "服务态度" };
  const FOLLOW_UP = {
    open: ["待回访", "open"],
    contacted: ["已联系", "contacted"],
    rectified: ["已整改", "rectified"],
    closed: ["已办结", "closed"],
  };
  const REVIEW = {
    requested: ["复核中", "under review"],
    upheld: ["复核成立·不计入", "review upheld · not counted"],
    rejected: ["复核驳回", "review rejected"],
  };
  const NEXT_STEP = { open: "contacted", contacted: "rectified" };

  let ratingsRequest = 0;
  async function loadRatings() {
    const form = $("#ratings-form");
    const params = new URLSearchParams({ bad: "true", limit: "500" });
    for (const name of ["from", "to", "follow_up"]) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    const mine = ++ratingsRequest;
    try {
      const list = await api("GET", `ratings?${params}`);
      if (mine !== ratingsRequest) return;
      state.ratings = list;
      renderRatings();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  function renderRatings() {
    const { summary, ratings } = state.ratings;
    const counter = $("#ratings-count");
    counter.textContent = String(summary.open_follow_ups);
    B.show(counter, summary.open_follow_ups > 0);
    $("#rating-figures").replaceChildren(
      tile("satisfaction_rate", "满意率", "satisfaction", fmt.rate(summary.satisfaction_rate), {
        class: summary.satisfaction_rate !== null && summary.satisfaction_rate < 90 ? "bad" : "rate",
        note: summary.satisfaction_rate === null ? "尚无评价 not yet rated" : `${summary.count} 条评价 ratings`,
      }),
      tile("count", "评价总数", "ratings", summary.count),
      ...LEVELS.map(([key, zh, en]) =>
        tile(`level-${key}`, zh, en, summary.by_level[key] ?? 0, {
          class: (key === "dissatisfied" || key === "very_dissatisfied") && summary.by_level[key] ? "bad" : "",
        }),
      ),
      tile("open_follow_ups", "待办回访", "follow-ups open", summary.open_follow_ups, {
        class: summary.open_follow_ups ? "warn" : "",
      }),
      tile("overdue_follow_ups", "逾期回访", "overdue", summary.overdue_follow_ups, {
        class: summary.overdue_follow_ups ? "bad" : "",
      }),
      tile("reviews_pending", "待复核", "reviews pending", summary.reviews_pending, {
        class: summary.reviews_pending ? "warn" : "",
      }),
      tile("excluded", "复核不计入", "excluded by review", summary.excluded, { note: "不计入满意率 not in the rate" }),
      tile("defaulted", "默认好评", "default ratings", summary.defaulted, { note: "系统默认，另计 counted apart" }),
    );
    $("#ratings-deadline").textContent = String(state.ratings.rectify_working_days);
    const form = $("#ratings-form");
    const range = new URLSearchParams();
    for (const name of ["from", "to"]) if (form.elements[name].value) range.set(name, form.elements[name].value);
    $("#ratings-export").onclick = () => exportReport("jsonl", `ratings/export?${range}`);
    $("#rating-rows").replaceChildren(...ratings.map(ratingRow));
    B.show($("#ratings-empty"), ratings.length === 0);
  }

  function ratingRow(r) {
    const cat = category(r.category);
    const level = LEVELS.find(([key]) => key === r.level) || [r.level, r.level_zh, r.level];
    const [stateZh, stateEn] = FOLLOW_UP[r.follow_up] || ["—", ""];
    const next = NEXT_STEP[r.follow_up];
    return el(
      "tr",
      { class: r.overdue ? "overdue" : "", dataset: { rating: r.id, number: r.number, followUp: r.follow_up || "" } },
      el("td", {}, fmt.dateTime(r.rated_at)),
      el("td", { class: "ticket" }, r.number),
      el("td", { class: "case-code" }, r.case_code || "—"),
      el("td", {}, cat.name_zh, " ", el("span", { class: "en" }, cat.name_en)),
      el("td", { class: "num" }, r.window ?? "—"),
      el("td", {}, el("span", { class: `badge level-${r.level}` }, level[1], " ", el("span", { class: "en" }, level[2]))),
      el(
        "td",
        { class: "about" },
        el("div", { class: "reasons" }, r.reasons.map((x) => REASONS[x] || x).join("、")),
        r.comment ? el("div", { class: "comment" }, `“${r.comment}”`) : null,
        r.contact_phone ? el("div", { class: "comment phone" }, `联系电话 phone: ${r.contact_phone}`) : null,
        r.notes.length
          ? el(
              "div",
              { class: "notes" },
              ...r.notes.map((n) =>
                el("div", {}, `${fmt.dateTime(n.at)} ${FOLLOW_UP[n.state][0]}（${n.by}）：${n.note}`),
              ),
              ...r.callbacks.map((c) =>
                el("div", { class: "callback" },
                  `${fmt.dateTime(c.at)} 回访（${c.by}）：${c.said} — 对整改${c.rerating === "satisfied" ? "满意" : "不满意"}`),
              ), // prettier-ignore
              ...(r.review ? [el("div", { class: "review" }, reviewText(r.review))] : []),
            )
          : null,
      ),
      el(
        "td",
        { class: "state" },
        el("span", { class: `badge follow-${r.follow_up}` }, stateZh, " ", el("span", { class: "en" }, stateEn)),
        r.review
          ? el("div", { class: `badge review-${r.review.state}` }, REVIEW[r.review.state][0], " ",
              el("span", { class: "en" }, REVIEW[r.review.state][1])) // prettier-ignore
          : null,
      ),
      el(
        "td",
        { class: "due" },
        r.due_on || "—",
        r.due_provisional ? el("div", { class: "provisional" }, "暂定 provisional") : null,
        r.overdue ? el("div", { class: "overdue-mark" }, "已逾期 overdue") : null,
      ),
      el(
        "td",
        {},
        el(
          "div",
          { class: "row-actions" },
          next
            ? el(
                "button",
                { type: "button", class: `step ${next}`, dataset: { step: next }, onclick: () => followUp(r, next) },
                next === "contacted" ? "已联系 Contacted" : "已整改 Rectified",
              )
            : null,
          r.follow_up === "rectified"
            ? el("button", { type: "button", class: "step callback", dataset: { step: "callback" },
                onclick: () => ratingAction(r, "callback") }, "回访 Call back") // prettier-ignore
            : null,
          !r.review && r.follow_up !== "closed"
            ? el("button", { type: "button", class: "step review", dataset: { step: "review" },
                onclick: () => ratingAction(r, "review") }, "申请复核 Ask review") // prettier-ignore
            : null,
          r.review && r.review.state === "requested"
            ? el("button", { type: "button", class: "step decide", dataset: { step: "decide" },
                onclick: () => ratingAction(r, "decide") }, "复核决定 Decide") // prettier-ignore
            : null,
        ),
      ),
    );
  }

  function reviewText(v) {
    const asked = `${fmt.dateTime(v.at)} 申请复核（${v.by}）：${v.reason}`;
    return v.decided_by ? `${asked}；${fmt.dateTime(v.decided_at)} ${REVIEW[v.state][0]}（${v.decided_by}）：${v.note}` : asked;
  }

  // The callback (回访, with the citizen's rating of the fix), the review request and its decision: one dialog.
  const RATING_ACTIONS = {
    callback: { zh: "回访", en: "Callback", path: "callback", text: "said", placeholder: "群众反馈：如对整改结果表示认可",
      choice: "rerating", choices: [["satisfied", "对整改满意 Satisfied with the fix"], ["dissatisfied", "对整改不满意 Not satisfied"]] },
    review: { zh: "申请复核", en: "Ask for review", path: "review", text: "reason", placeholder: "申诉理由：如系误评或恶意差评的依据" },
    decide: { zh: "复核决定", en: "Decide the review", path: "review/decision", text: "note", placeholder: "复核意见",
      choice: "outcome", choices: [["upheld", "复核成立：不计入满意率 Upheld"], ["rejected", "驳回：保留差评 Rejected"]] },
  }; // prettier-ignore

  async function ratingAction(rating, kind) {
    const action = RATING_ACTIONS[kind];
    const dialog = $("#rating-action-dialog");
    const form = $("#rating-action-form");
    form.reset();
    $("#rating-action-title").replaceChildren(`${rating.number} ${action.zh} `, el("span", { class: "en" }, action.en));
    $("#rating-action-about").textContent = `${rating.level_zh}：${rating.reasons.map((x) => REASONS[x] || x).join("、")}`;
    form.elements.text.placeholder = action.placeholder;
    const select = form.elements.choice;
    select.replaceChildren(...(action.choices || []).map(([value, label]) => el("option", { value }, label)));
    B.show($("#rating-action-choice"), Boolean(action.choices));
    $("#rating-action-error").textContent = "";
    form.onsubmit = async (event) => {
      event.preventDefault();
      const body = { [action.text]: form.elements.text.value.trim() };
      if (action.choice) body[action.choice] = select.value;
      try {
        await api("POST", `ratings/${rating.id}/${action.path}`, body);
        dialog.close("ok");
        toast(`${rating.number} ${action.zh} ${action.en}`, "ok");
      } catch (error) {
        $("#rating-action-error").textContent = B.errorText(error);
      }
    };
    const answer = await B.modal(dialog);
    if (answer === "ok") await loadRatings();
  }

  async function followUp(rating, next) {
    const dialog = $("#follow-up-dialog");
    const form = $("#follow-up-form");
    form.reset();
    const [zh, en] = FOLLOW_UP[next];
    $("#follow-up-title").replaceChildren(`${rating.number} 标记为${zh} `, el("span", { class: "en" }, `Mark as ${en}`));
    $("#follow-up-about").textContent = `${rating.level_zh}：${rating.reasons.map((x) => REASONS[x] || x).join("、")}`;
    form.elements.note.placeholder = next === "contacted" ? "如：已电话联系群众，说明情况" : "如：已对窗口人员批评教育并整改";
    $("#follow-up-error").textContent = "";
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await api("POST", `ratings/${rating.id}/follow-up`, { state: next, note: form.elements.note.value.trim() });
        dialog.close("ok");
        toast(`${rating.number} ${zh} ${en}`, "ok");
      } catch (error) {
        $("#follow-up-error").textContent = B.errorText(error);
      }
    };
    const answer = await B.modal(dialog);
    if (answer === "ok") await loadRatings();
  }

  // -- staff --------------------------------------------------------------------------------------

  const staffReads = B.newest();
  async function loadStaff() {
    const asked = staffReads.ask();
    try {
      const staff = await api("GET", "/api/v1/staff");
      if (!staffReads.fresh(asked)) return;
      state.staff = staff;
      renderStaff();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  function renderStaff() {
    const roles = [
      ["clerk", "窗口工作人员"],
      ["manager", "中心主任"],
      ["admin", "系统管理员"],
    ];
    $("#staff-rows").replaceChildren(
      ...state.staff.map((s) => {
        const select = el(
          "select",
          { class: "role", "aria-label": `${s.username} 角色`, onchange: () => changeStaff(s.username, { role: select.value }) },
          ...roles.map(([value, label]) => el("option", { value, selected: value === s.role }, label)),
        );
        return el(
          "tr",
          { class: s.active ? "" : "inactive", dataset: { username: s.username } },
          el("td", {}, s.username),
          el("td", {}, s.display_name),
          el("td", {}, select),
          el(
            "td",
            {},
            el("input", {
              class: "staff-no", value: s.staff_no || "", maxlength: "16", size: "8", "aria-label": `${s.username} 工号`,
              pattern: "[0-9A-Za-z][0-9A-Za-z\\-]{0,15}", placeholder: "工号",
              onchange: (event) => staffNumber(s.username, event.target),
            }), // prettier-ignore
          ),
          el(
            "td",
            { class: "status" },
            s.active ? el("span", { class: "badge open" }, "启用 active") : el("span", { class: "badge closed" }, "停用 inactive"),
            s.locked ? el("span", { class: "badge paused" }, "锁定 locked") : null,
          ),
          el(
            "td",
            {},
            el(
              "div",
              { class: "row-actions" },
              el(
              "button",
              { type: "button", class: "toggle", onclick: () => changeStaff(s.username, { active: !s.active }) },
              s.active ? "停用 Deactivate" : "启用 Activate",
            ),
              el("button", { type: "button", class: "reset", onclick: () => resetPassword(s.username) }, "重置密码 Reset password"),
            ),
          ),
        );
      }),
    );
  }

  function staffNumber(username, input) {
    input.value = input.value.trim();
    if (!input.checkValidity()) {
      toast("工号为1–16位字母、数字或“-” A staff number has 1–16 letters, digits or '-'", "error");
      return;
    }
    changeStaff(username, { staff_no: input.value || null });
  }

  async function changeStaff(username, change) {
    try {
      await api("PATCH", `/api/v1/staff/${encodeURIComponent(username)}`, change);
      toast(`${username} 已更新 updated`, "ok");
    } catch (error) {
      toast(B.errorText(error), "error");
    }
    await loadStaff();
  }

  async function addStaff(event) {
    event.preventDefault();
    const form = event.target;
    const body = {
      username: form.elements.username.value.trim().toLowerCase(),
      display_name: form.elements.display_name.value.trim(),
      role: form.elements.role.value,
      password: form.elements.password.value,
    };
    try {
      await api("POST", "/api/v1/staff", body);
      form.reset();
      toast(`已新增 ${body.display_name}（${body.username}） added`, "ok");
    } catch (error) {
      toast(B.errorText(error), "error");
    }
    await loadStaff();
  }

  async function resetPassword(username) {
    const dialog = $("#password-dialog");
    const form = $("#password-form");
    form.reset();
    $("#password-user").textContent = username;
    $("#password-error").textContent = "";
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await api("POST", `/api/v1/staff/${encodeURIComponent(username)}/password`, { password: form.elements.password.value });
        dialog.close("ok");
        toast(`${username} 的密码已重置 password reset`, "ok");
      } catch (error) {
        $("#password-error").textContent = B.errorText(error);
      }
    };
    await B.modal(dialog);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
