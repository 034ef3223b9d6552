/* 便民 Bianmin — the manager's case list (办件): the hall's open cases, the overdue ones (逾期) and those due
 * today, from GET .../cases?view=open|overdue|due_today (oldest due first, at most 500).
 *
 * A tab of the manager's dashboard of its own: this script adds its tab button and section before manager.js
 * starts (it is included first), so manager.js switches to it as to any tab; the list is read when the tab is
 * opened, when the view changes, and every 30 s while it is shown. The tab's badge counts the overdue cases.
 * The citizen's phone comes masked from the server (138****5678) and is not shown here at all.
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, toast } = B;
  const EVERY_MS = 30000;
  const VIEWS = [
    ["open", "在办", "open"],
    ["overdue", "逾期", "overdue"],
    ["due_today", "今日到期", "due today"],
  ];
  const state = { view: "open", cases: null, overdue: null, at: 0 };

  window.bianminManagerCases = {
    get cases() {
      return state.cases;
    },
    get view() {
      return state.view;
    },
    load,
  };

  function shown() {
    const section = $("#tab-cases");
    return section !== null && !section.hidden;
  }

  function build() {
    const tabs = $("#tabs");
    if (!tabs) return;
    const button = el(
      "button",
      { type: "button", dataset: { tab: "cases" } },
      "办件 ",
      el("span", { class: "en" }, "Cases"),
      el("span", { class: "count", id: "cases-overdue-count", hidden: true }),
    );
    tabs.insertBefore(button, tabs.querySelector('[data-tab="reports"]'));
    button.addEventListener("click", () => setTimeout(load, 0)); // after manager.js has shown the section
    const views = el(
      "div",
      // A group of toggle buttons, not a tablist: a tablist must hold tabs with their panels (axe: critical).
      { class: "case-views", role: "group", "aria-label": "办件视图 Case views" },
      ...VIEWS.map(([view, zh, en]) =>
        el(
          "button",
          {
            type: "button",
            dataset: { view },
            class: view === state.view ? "active" : "",
            "aria-pressed": String(view === state.view),
            onclick: () => choose(view),
          },
          zh,
          " ",
          el("span", { class: "en" }, en),
        ),
      ),
    );
    const head = (zh, en, cls) => el("th", { class: cls || "" }, zh, " ", el("span", { class: "en" }, en));
    const section = el(
      "section",
      { class: "tab", id: "tab-cases", hidden: true },
      el(
        "div",
        { class: "panel" },
        el("h2", {}, "办件台账 ", el("span", { class: "en" }, "The hall's cases")),
        views,
        el(
          "div",
          { class: "table-wrap" },
          el(
            "table",
            { class: "manager-cases" },
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                head("办件编号", "Code"),
                head("事项", "Item"),
                head("类别", "Class"),
                head("状态", "State"),
                head("窗口 / 经办", "Window / clerk"),
                head("受理日期", "Accepted"),
                head("办结期限", "Due", "num"),
              ),
            ),
            el("tbody", { id: "manager-case-rows" }),
          ),
        ),
        el("div", { class: "empty", id: "manager-cases-empty", hidden: true }, "没有办件 ", el("span", { class: "en" }, "No cases")),
      ),
    );
    const after = $("#tab-reports");
    after.parentNode.insertBefore(section, after);
    setInterval(() => shown() && load(), EVERY_MS);
  }

  function choose(view) {
    state.view = view;
    for (const button of document.querySelectorAll("#tab-cases [data-view]")) {
      button.classList.toggle("active", button.dataset.view === view);
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    load();
  }

  async function load() {
    if (!B.session.get()) return;
    try {
      const [list, overdue] = await Promise.all([
        api("GET", `cases?view=${state.view}`),
        state.view === "overdue" ? null : api("GET", "cases?view=overdue"),
      ]);
      state.cases = list.cases;
      state.overdue = overdue ? overdue.cases.length : list.cases.length;
      state.at = Date.now();
      render();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  function itemName(c) {
    if (c.item_name_zh) return c.item_name_zh;
    const wall = window.bianminDashboard && window.bianminDashboard.wall; // the wall names the categories
    const category = ((wall && wall.categories) || []).find((k) => k.code === c.category);
    return category ? `${category.name_zh}（按类别）` : c.category;
  }

  function who(c) {
    const where = c.window === null ? (c.department ? c.department : "—") : `${c.window}号窗口`;
    return c.clerk ? `${where} · ${c.clerk}` : where;
  }

  function render() {
    const badge = $("#cases-overdue-count");
    badge.textContent = String(state.overdue);
    B.show(badge, state.overdue > 0);
    B.show($("#manager-cases-empty"), state.cases.length === 0);
    $("#manager-case-rows").replaceChildren(
      ...state.cases.map((c) =>
        el(
          "tr",
          { class: c.overdue ? "overdue" : c.due_today ? "due" : "", dataset: { code: c.code } },
          el("td", { class: "code" }, c.code),
          el("td", {}, itemName(c)),
          el("td", {}, c.class_zh),
          el("td", { class: "state" }, c.state_zh, c.department ? ` · ${c.department}` : ""),
          el("td", {}, who(c)),
          el("td", {}, c.opened_day),
          el("td", { class: "num due-on" }, c.due_on ? `${c.due_on}${c.due_provisional ? " (暂定)" : ""}` : "待补齐材料 waiting for materials"),
        ),
      ),
    );
  }

  build();
  // A case without an item is named by its category, from the wall: once the wall is (re)read, name it.
  document.addEventListener("bianmin:wall", () => {
    if (state.cases && state.cases.length) render();
  });
})();
