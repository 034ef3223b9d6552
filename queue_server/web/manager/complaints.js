/* 便民 Bianmin — the manager dashboard's 投诉举报 tab: the hall's complaints (GET .../complaints), not answered
 * first with the earliest due first, overdue marked; take one up (POST .../complaints/{id}/handle) and answer
 * it (POST .../complaints/{id}/answer). The tab's count (not answered) is kept fresh every 15 s on every tab.
 * The complaint's text and the complainant's contact are shown as text, never as HTML. */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, fmt, toast } = B;
  const EVERY_MS = 15000;
  const STATES = { open: ["已受理", "received"], handling: ["处理中", "handling"], answered: ["已答复", "answered"] };
  const state = { list: null, load: () => load() };
  window.bianminComplaints = state;

  function allowed() {
    const session = B.session.get();
    return session && (session.role === "manager" || session.role === "admin");
  }

  async function load() {
    if (!allowed()) return;
    try {
      state.list = await api("GET", "complaints?limit=500");
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    render();
  }

  function figure(key, zh, en, value, bad) {
    return el("div", { class: `tile ${bad ? "bad" : ""}`, dataset: { figure: key } },
      el("div", { class: "value" }, String(value)),
      el("div", { class: "label" }, zh, " ", el("span", { class: "en" }, en)));
  }

  function render() {
    const { summary, complaints } = state.list;
    const waiting = summary.open + summary.handling;
    const counter = $("#complaints-count");
    counter.textContent = String(waiting);
    B.show(counter, waiting > 0);
    $("#complaint-figures").replaceChildren(
      figure("open", "待处理", "received", summary.open, false),
      figure("handling", "处理中", "handling", summary.handling, false),
      figure("answered", "已答复", "answered", summary.answered, false),
      figure("answered_late", "超期答复", "answered late", summary.answered_late, summary.answered_late > 0),
      figure("overdue", "逾期未答复", "overdue", summary.overdue, summary.overdue > 0),
    );
    $("#complaint-rows").replaceChildren(...complaints.map(row));
    B.show($("#complaints-empty"), complaints.length === 0);
  }

  /** The case the complaint names: its code, item, state (逾期 marked), due date, window and handler. */
  function linkedCase(c) {
    const k = c.case;
    if (!k) return el("div", { class: "comment", dataset: { case: c.case_code } }, `办件编号 case: ${c.case_code}`);
    const where = [k.window ? `${k.window}号窗口` : null, k.department, k.clerk].filter(Boolean).join(" · ");
    return el("div", { class: `comment linked-case${k.overdue ? " overdue-mark" : ""}`, dataset: { case: k.code } },
      `办件 case ${k.code}：${k.item_name_zh || k.category}（${k.class_zh}）· `,
      el("strong", {}, k.state_zh),
      ` · 期限 due ${k.due_on || "—"}${where ? ` · ${where}` : ""}`);
  }

  function row(c) {
    const [zh, en] = STATES[c.state];
    const actions = [];
    if (c.state === "open") {
      actions.push(el("button", { type: "button", class: "step", dataset: { step: "handle" },
        onclick: () => handle(c) }, "受理处理 Take up"));
    }
    if (c.state !== "answered") {
      actions.push(el("button", { type: "button", class: "step primary", dataset: { step: "answer" },
        onclick: () => answer(c) }, "答复 Answer"));
    }
    return el("tr", { class: c.overdue ? "overdue" : "", dataset: { complaint: c.id, state: c.state } },
      el("td", {}, fmt.dateTime(c.filed_at)),
      el("td", {}, c.category_zh),
      el("td", { class: "num" }, c.window ?? "—"),
      el("td", { class: "about" },
        el("div", { class: "comment" }, c.text),
        c.case_code ? linkedCase(c) : null,
        c.contact ? el("div", { class: "comment phone" }, "联系电话 phone: ",
          el("a", { href: `tel:${c.contact.replace(/[^0-9+]/g, "")}` }, c.contact_masked)) : null,
        !c.contact && c.contact_masked ? el("div", { class: "comment phone" }, `联系电话 phone: ${c.contact_masked}`) : null,
        !c.contact_masked ? el("div", { class: "comment" }, "匿名 anonymous") : null,
        c.answer ? el("div", { class: "notes" }, `答复（${c.answered_by}，${c.answered_on}）：${c.answer}`) : null),
      el("td", { class: "state" }, el("span", { class: `badge complaint-${c.state}` }, zh, " ",
        el("span", { class: "en" }, en))),
      el("td", { class: "due" }, c.due_on,
        c.due_provisional ? el("div", { class: "provisional" }, "暂定 provisional") : null,
        c.overdue ? el("div", { class: "overdue-mark" }, "已逾期 overdue") : null,
        c.late ? el("div", { class: "overdue-mark" }, "超期答复 late") : null),
      el("td", {}, el("div", { class: "row-actions" }, ...actions)));
  }

  async function handle(c) {
    try {
      await api("POST", `complaints/${c.id}/handle`);
      toast("已受理处理 Taken up", "ok");
    } catch (error) {
      toast(B.errorText(error), "error");
    }
    await load();
  }

  async function answer(c) {
    const dialog = $("#complaint-dialog");
    const form = $("#complaint-form");
    form.reset();
    $("#complaint-about").textContent = `${c.category_zh}：${c.text}`;
    $("#complaint-error").textContent = "";
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await api("POST", `complaints/${c.id}/answer`, { answer: form.elements.answer.value.trim() });
        dialog.close("ok");
        toast("已答复 Answered", "ok");
      } catch (error) {
        $("#complaint-error").textContent = B.errorText(error);
      }
    };
    if ((await B.modal(dialog)) === "ok") await load();
  }

  function init() {
    $('#tabs [data-tab="complaints"]').addEventListener("click", load);
    setInterval(load, EVERY_MS);
    load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
