/* 便民 Bianmin — the clerk's desk of cases (我的办件): my open cases, those due today and overdue (逾期),
 * and the case dialog: 办结 with the 领取方式, extend with a reason, hand on to a window or department.
 * Read from GET .../cases/desk whenever the console re-reads its desk (clerk.js calls refresh).
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, toast } = B;
  const state = { cases: null, setup: null, desk: null };

  window.bianminCases = {
    get cases() {
      return state.cases;
    },
    refresh,
  };

  const reads = B.newest();
  async function refresh(setup, desk) {
    state.setup = setup;
    state.desk = desk;
    const asked = reads.ask();
    try {
      const cases = await api("GET", "cases/desk");
      if (!reads.fresh(asked)) return; // a later read is on screen already
      state.cases = cases;
      render();
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  function itemName(c) {
    return c.item_name_zh || (state.setup.categories.find((k) => k.code === c.category) || {}).name_zh || c.category;
  }

  function pointName(c) {
    const point = (state.setup.agent_points || []).find((p) => p.id === c.point);
    return point ? point.name_zh : c.point;
  }

  /** Under the item: the agent point that brought it (代理件) and what is still missing. */
  function notes(c) {
    const missing = c.missing_materials.length ? `缺：${c.missing_materials.join("、")}` : null;
    const from = c.point ? `${pointName(c)} ${c.agent_name || ""}` : null;
    const text = [from, missing].filter(Boolean).join(" · ");
    return text ? el("div", { class: "case-note" }, text) : null;
  }

  function render() {
    const { mine, overdue, due_today: dueToday } = state.cases;
    $("#cases-count").textContent = String(mine.length);
    B.show($("#cases-overdue"), overdue.length > 0);
    $("#cases-overdue").textContent = `逾期 ${overdue.length} overdue`;
    B.show($("#cases-due"), dueToday.length > 0);
    $("#cases-due").textContent = `今日到期 ${dueToday.length} due today`;
    B.show($("#cases-empty"), mine.length === 0);
    $("#cases-list").replaceChildren(
      ...mine.map((c) =>
        el(
          "tr",
          { class: c.overdue ? "overdue" : c.due_today ? "due" : "", dataset: { code: c.code }, onclick: () => caseDialog(c) },
          el("td", { class: "code" }, c.code),
          el("td", {}, itemName(c), notes(c)),
          el("td", {}, c.class_zh),
          el("td", {}, c.state_zh, c.department ? ` · ${c.department}` : ""),
          el("td", { class: "num" }, c.due_on || "—"),
        ),
      ),
    );
  }

  function showFields(form) {
    const action = form.elements.action.value;
    for (const node of form.querySelectorAll("[data-case-action]")) {
      B.show(node, node.dataset.caseAction.split(" ").includes(action));
    }
  }

  async function caseDialog(c) {
    const form = $("#case-form");
    form.reset();
    $("#case-error").textContent = "";
    $("#case-code").textContent = c.code;
    const lines = [
      `${itemName(c)} · ${c.class_zh} · ${c.state_zh}`,
      `受理 ${c.opened_day}${c.number ? `（${c.number}号）` : ""} · 期限 ${c.due_on || "—"}`,
      c.contact ? `联系电话 ${c.contact}` : null,
      c.point ? `代办点 ${pointName(c)} · 代办员 ${c.agent_name || c.accepted_by} · 群众 ${c.villager || "—"}` : null,
      c.collected_materials.length ? `已收材料：${c.collected_materials.join("、")}` : null,
      c.supplement_pending ? "已通知补办，等待材料 Waiting for the materials asked for" : null,
      c.missing_materials.length ? `缺少材料：${c.missing_materials.join("、")}` : null,
      ...c.legs.map((leg) => `联办：${leg.to_department || `${leg.to_window}号窗口`}（${leg.by}，${leg.hours}小时）`),
      ...c.extensions.map((x) => `延期 ${x.days} 个工作日至 ${x.to_due}：${x.reason}（${x.by}）`),
    ];
    $("#case-detail").replaceChildren(...lines.filter(Boolean).map((line) => el("div", {}, line)));
    $("#case-window").replaceChildren(
      el("option", { value: "" }, "—"),
      ...state.setup.windows.map((w) => el("option", { value: w.number }, `${w.number}号 ${w.name_zh}`)),
    );
    form.elements.materials.value = c.missing_materials.join("\n");
    if (c.point) form.elements.result.value = "agent";
    form.elements.action.onchange = () => showFields(form);
    showFields(form);
    const dialog = $("#case-dialog");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const action = form.elements.action.value;
      const reason = form.elements.reason.value.trim();
      let body;
      if (action === "complete") body = { result: form.elements.result.value };
      else if (action === "extend") body = { days: Number(form.elements.days.value), reason };
      else if (action === "supplement") {
        body = { materials: form.elements.materials.value.split("\n").map((m) => m.trim()).filter(Boolean) };
      }
      else {
        body = { reason };
        if (form.elements.to_window.value) body.to_window = Number(form.elements.to_window.value);
        if (form.elements.to_department.value.trim()) body.to_department = form.elements.to_department.value.trim();
      }
      try {
        const answer = await api("POST", `cases/${encodeURIComponent(c.code)}/${action}`, body);
        dialog.close("ok");
        toast(`${answer.code} ${answer.state_zh}${answer.due_on ? `，期限 ${answer.due_on}` : ""}`, "ok");
        await refresh(state.setup, state.desk);
      } catch (error) {
        $("#case-error").textContent = B.errorText(error);
      }
    };
    await B.modal(dialog);
  }
})();
