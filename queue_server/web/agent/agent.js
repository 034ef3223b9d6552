/* 便民 Bianmin — the village agent's phone page (村级代办, /agent/{hall}): log in, take a case for a villager
 * (the item, the materials of its one-time-notice checklist collected, the villager's name and phone with
 * consent), follow the point's cases (补办 requests with what is missing, results), bring the missing materials,
 * record handing the result back. Session, API, live link and DOM helpers: /console/clerk/common.js.
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, toast, CONFIG } = B;
  const state = { desk: null, items: [] };
  const FORMS = { original: ["原件", "original"], copy: ["复印件", "copy"], original_and_copy: ["原件及复印件", "original and copy"] };
  window.bianminAgent = {
    get desk() {
      return state.desk;
    },
  };

  function init() {
    B.onUnauthorized = () => showLogin("登录已失效，请重新登录 Your login has ended: log in again");
    B.loginForm($("#login-form"), begin);
    $("#logout").addEventListener("click", async () => {
      await B.logout();
      showLogin("");
    });
    $("#tab-take").addEventListener("click", () => tab("take"));
    $("#tab-cases").addEventListener("click", () => tab("cases"));
    $("#item").addEventListener("change", materials);
    $("#take").addEventListener("submit", takeCase);
    const session = B.session.get();
    if (session) begin(session);
    else showLogin("");
    document.body.classList.add("ready");
  }

  function showLogin(message) {
    state.desk = null;
    B.show($("#login"), true);
    B.show($("#work"), false);
    B.show($("#logout"), false);
    $("#where").textContent = CONFIG.name_zh;
    $("#login .login-error").textContent = message;
  }

  async function begin(session) {
    if (session.role !== "agent") {
      await B.logout();
      showLogin("此页面仅供村级代办员使用 This page is for village agents");
      return;
    }
    B.show($("#login"), false);
    B.show($("#work"), true);
    B.show($("#logout"), true);
    const catalog = await api("GET", `/api/v1/halls/${CONFIG.hall}/catalog`);
    state.items = catalog.items;
    const groups = catalog.categories.map((c) =>
      el("optgroup", { label: c.name_zh }, ...catalog.items.filter((i) => i.category === c.code)
        .map((i) => el("option", { value: i.id }, i.name_zh))),
    );
    $("#item").replaceChildren(el("option", { value: "" }, "请选择事项 Choose an item"), ...groups);
    materials();
    await refresh();
    B.live(refresh, () => {}, 2000);
  }

  function tab(name) {
    for (const which of ["take", "cases"]) {
      B.show($(`#${which}`), which === name);
      $(`#tab-${which}`).setAttribute("aria-selected", String(which === name));
    }
  }

  function materials() {
    const item = state.items.find((i) => i.id === $("#item").value);
    $("#materials").replaceChildren(
      ...(item ? item.materials : []).map((m, index) =>
        el("label", { class: "inline material" }, el("input", { type: "checkbox", name: "collected", value: index }),
          el("span", {}, m.name, el("span", { class: "form" }, ` ${FORMS[m.form][0]} ×${m.copies}`),
          el("span", { class: "en" }, ` ${FORMS[m.form][1]}`))),
      ),
    );
  }

  async function takeCase(event) {
    event.preventDefault();
    const form = event.target;
    const phone = form.elements.phone.value.trim();
    const body = {
      item_id: form.elements.item_id.value,
      collected: [...form.querySelectorAll("input[name=collected]:checked")].map((box) => Number(box.value)),
      villager_name: form.elements.villager_name.value.trim(),
      consent: form.elements.consent.checked,
    };
    if (phone) body.phone = phone;
    $("#take-error").textContent = "";
    try {
      const c = await api("POST", "agent/cases", body);
      form.reset();
      materials();
      const missing = c.missing_materials.length ? `，待补：${c.missing_materials.join("、")}` : "";
      $("#taken").textContent = `已受理 Taken：${c.code} · ${c.item_name_zh} · 期限 ${c.due_on || "—"}${missing}`;
      B.show($("#taken"), true);
      toast(`${c.code} 已受理 taken`, "ok");
      await refresh();
    } catch (error) {
      $("#take-error").textContent = B.errorText(error);
    }
  }

  async function refresh() {
    try {
      state.desk = await api("GET", "agent/desk");
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
      return;
    }
    const { point, cases, display_name: name } = state.desk;
    $("#where").textContent = `${point.name_zh} · ${CONFIG.name_zh} · ${name}`;
    $("#cases-count").textContent = String(cases.length);
    B.show($("#cases-empty"), cases.length === 0);
    $("#case-list").replaceChildren(...cases.map(card));
  }

  function card(c) {
    const [zh, en, kind] = c.supplement_pending ? ["需补办", "materials needed", "warn"]
      : c.overdue ? ["逾期", "overdue", "danger"] : [c.state_zh, c.state.replace("_", " "), c.state];
    const due = c.supplement_pending ? "暂停（待补办）paused" : c.due_on || "—";
    const lines = [
      el("div", { class: "head" }, el("span", { class: "code" }, c.code),
        el("span", { class: `badge ${kind}` }, zh, " ", el("span", { class: "en" }, en))),
      el("div", {}, c.item_name_zh || c.category),
      el("div", { class: "meta" }, `群众 ${c.villager || "—"} ${c.contact || ""} · 受理 ${c.opened_day} · 期限 ${due}`),
    ];
    if (c.supplement_pending) lines.push(supplement(c));
    if (c.state === "completed") {
      lines.push(el("div", { class: "result" }, `办结 Completed：${c.result_zh || "—"}`));
      if (c.handed_back_at) lines.push(el("div", { class: "meta" }, `已转交群众 Handed back ${B.fmt.dateTime(c.handed_back_at)}`));
      else lines.push(el("button", { type: "button", class: "primary", onclick: () => act(c, "handed-back") }, "已转交群众 Handed back"));
    }
    return el("li", { class: "case", dataset: { code: c.code } }, ...lines);
  }

  function supplement(c) {
    const boxes = c.missing_materials.map((name, index) =>
      el("label", { class: "inline" }, el("input", { type: "checkbox", value: index }), el("span", {}, name)));
    const send = () => {
      const brought = boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => Number(b.value));
      act(c, "resubmit", { brought });
    };
    return el("div", { class: "missing" }, el("div", {}, "窗口要求补齐材料 The window asks for:"), ...boxes,
      el("button", { type: "button", class: "primary", onclick: send }, "材料已补齐，重新提交 Resubmit"));
  }

  async function act(c, action, body) {
    try {
      const answer = await api("POST", `agent/cases/${encodeURIComponent(c.code)}/${action}`, body);
      toast(`${answer.code} ${action === "resubmit" ? "已重新提交 resubmitted" : "已转交 handed back"}`, "ok");
      await refresh();
    } catch (error) {
      toast(B.errorText(error), "error");
    }
  }

  init();
})();
