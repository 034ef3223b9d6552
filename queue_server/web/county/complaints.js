/* 便民 Bianmin — the county dashboard's 投诉举报 panel: every hall's complaints of the report form's period
 * (GET .../counties/{county}/complaints?period&date), from each hall's event log (a township's shipped one):
 * how many were received, answered on time, late, and are overdue, and the overdue ones. The county sees no
 * complaint's text, answer or contact (they stay in the hall). */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, fmt } = B;
  const CONFIG = B.CONFIG;
  const EVERY_MS = 30000;
  const CATEGORIES = {
    attitude: "服务态度", efficiency: "办事效率", rules: "未按规定办理", fees: "乱收费",
    integrity: "吃拿卡要", environment: "环境设施", other: "其他",
  };
  const state = { data: null, query: "", at: 0 };
  window.bianminCountyComplaints = state;

  function query() {
    const form = $("#report-form");
    const period = form.elements.period.value === "day" ? "month" : form.elements.period.value;
    return new URLSearchParams({ period, date: form.elements.date.value || fmt.today() }).toString();
  }

  async function tick() {
    if ($("#dashboard").hidden || !B.session.get()) return;
    const wanted = query();
    if (wanted === state.query && Date.now() - state.at < EVERY_MS) return;
    state.query = wanted;
    state.at = Date.now();
    try {
      state.data = await api("GET", `${CONFIG.api}/complaints?${wanted}`);
    } catch (_error) {
      return; // the dashboard's own reads say what is wrong
    }
    render();
  }

  function cell(value, bad) {
    return el("td", { class: `num ${bad ? "bad" : ""}` }, String(value));
  }

  function render() {
    const d = state.data;
    $("#complaints-title").replaceChildren(`投诉举报 ${d.label_zh} `, el("span", { class: "en" }, "Complaints"));
    const line = (name, f, key) => el("tr", { dataset: { hall: key } },
      el("td", {}, name), cell(f.received), cell(f.answered), cell(f.answered_on_time),
      cell(f.answered_late, f.answered_late > 0), cell(f.overdue, f.overdue > 0),
      el("td", { class: "num" }, fmt.rate(f.on_time_rate)));
    $("#complaint-halls").replaceChildren(...d.halls.map((h) => line(h.name_zh, h.figures, h.hall)),
      line("合计 Total", d.totals, "total"));
    const overdue = d.halls.flatMap((h) => h.complaints.filter((c) => c.overdue).map((c) => ({ ...c, name: h.name_zh })));
    $("#complaint-overdue").replaceChildren(...overdue.map((c) => el("li", {},
      `${c.name}：${CATEGORIES[c.category] || c.category}${c.window ? `（${c.window}号窗口）` : ""}，` +
      `${c.day} 提交，${c.due_on} 到期，${STATE[c.state] || c.state}`)));
    B.show($("#complaint-overdue-box"), overdue.length > 0);
  }

  const STATE = { open: "待处理", handling: "处理中", answered: "已答复" };

  $("#report-form").addEventListener("submit", () => setTimeout(tick, 0));
  setInterval(tick, 2000);
})();
