/* 便民 Bianmin public supervision page /q/{hall} (互联网+监督): a case's progress by its code
 * (GET .../case-lookup/{code}; `?case=CODE` in the address looks it up at once), the hall's published monthly figures
 * (GET .../published), each service item's eight published facts (GET .../catalog), filing a complaint
 * (POST .../complaints) and reading its answer by its code (GET .../complaints/{code}). The codes of the
 * complaints filed from this phone are kept in its own storage (nothing else is). Text from the server or
 * typed by anyone is only ever put into the page as text. */
"use strict";

(() => {
  const { CONFIG, $, el, api, errorText } = window.Phone;
  const STORE_KEY = `bianmin.complaints.${CONFIG.hall}`;
  const CODE = /^[2-9A-HJ-NP-Z]{10}$/;
  const CASE_CODE = /^[34679ACDEFGHJKMNPQRTWXY]{9}$/; // domain/cases.py CODE_ALPHABET: no look-alikes
  const state = { catalog: null, published: null, lastView: null, lastCase: null };
  window.bianminSupervision = state;

  // -- the figures ------------------------------------------------------------------------------------

  function rate(value) {
    return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
  }

  function minutes(seconds) {
    return seconds === null || seconds === undefined ? "—" : `${(seconds / 60).toFixed(1)}分钟`;
  }

  function tile(key, zh, en, value, note) {
    return el("div", { class: "q-tile", dataset: { figure: key } },
      el("div", { class: "q-value" }, value),
      el("div", { class: "q-label" }, zh, " ", el("span", { class: "en" }, en)),
      note ? el("div", { class: "muted small" }, note) : null);
  }

  async function loadFigures() {
    const answer = await api("GET", `${CONFIG.api_path}/published`);
    if (answer.status !== 200) {
      $("#figures-when").textContent = errorText(answer);
      return;
    }
    const f = (state.published = answer.body);
    $("#figures-when").replaceChildren(
      `${f.label_zh}数据（${f.published_on}公布，下次公布：${f.next_on}） `,
      el("span", { class: "en" }, `${f.label_en}, published ${f.published_on}, next on ${f.next_on}`),
    );
    const c = f.complaints;
    $("#figure-tiles").replaceChildren(
      tile("cases", "办件量", "cases", String(f.cases), `取号 ${f.tickets_issued}`),
      tile("completion_rate", "办结率", "completion rate", rate(f.completion_rate), `办结 ${f.completed}`),
      tile("on_time_rate", "按时办结率", "on-time rate", rate(f.on_time_rate),
        f.on_time_rate === null ? "暂无办结 none completed" : null),
      tile("satisfaction_rate", "满意率", "satisfaction", rate(f.satisfaction_rate),
        f.rated ? `${f.rated} 条评价` : "暂无评价 no ratings"),
      tile("avg_wait", "平均等候", "mean wait", minutes(f.avg_wait_s)),
      tile("complaints", "投诉举报", "complaints", String(c.received),
        `按期答复 ${c.answered_on_time} · 超期 ${c.answered_late + c.overdue}`),
    );
  }

  // -- a case by its code ------------------------------------------------------------------------------

  function caseState(c) {
    const tone = c.overdue ? "late" : c.state;
    return el("span", {}, el("span", { class: `pill ${tone}` }, c.state_zh), " ", el("span", { class: "en" }, c.state_en));
  }

  function showCase(c) {
    $("#k-shown-code").textContent = c.code;
    $("#k-item").replaceChildren(c.item_name_zh || "—", " ", el("span", { class: "en" }, c.item_name_en || ""),
      el("div", { class: "muted small" }, c.class_zh));
    $("#k-state").replaceChildren(caseState(c));
    $("#k-opened").textContent = c.opened_day;
    $("#k-due").textContent = c.due_on
      ? `${c.due_on}${c.due_provisional ? "（暂定 provisional）" : ""}`
      : "补齐材料后起算 counted from when the materials are brought";
    $("#k-window").textContent = c.window ? `${c.window}号窗口 ${c.window_name_zh || ""} ${c.window_name_en || ""}` : "—";
    $("#k-department").textContent = c.department || "—";
    let label = "", more = "";
    if (c.closed_day) {
      label = c.state === "completed" ? "办结日期" : "结束日期";
      more = `${c.closed_day}${c.result_zh ? ` · ${c.result_zh}` : ""}`;
    } else if (c.missing_materials.length) {
      label = "需补齐材料";
      more = c.missing_materials.join("、");
    }
    $("#k-more-label").textContent = label;
    $("#k-more").textContent = more;
    $("#k-more-label").hidden = $("#k-more").hidden = !label;
    $("#k-result").hidden = false;
  }

  async function lookUpCase(raw) {
    const code = raw.replace(/[\s-]/g, "").toUpperCase();
    $("#k-code").value = raw.trim();
    if (!CASE_CODE.test(code)) {
      showError("k-error", "办件编号为9位字母或数字，请核对回执 (a case code has 9 letters or digits: check your receipt)");
      $("#k-result").hidden = true;
      return;
    }
    $("#k-submit").disabled = true;
    const answer = await api("GET", `${CONFIG.api_path}/case-lookup/${encodeURIComponent(code)}`);
    $("#k-submit").disabled = false;
    if (answer.status !== 200) {
      showError("k-error", errorText(answer));
      $("#k-result").hidden = true;
      return;
    }
    showError("k-error", "");
    showCase((state.lastCase = answer.body));
  }

  function initCaseLookup() {
    const card = $("#case-lookup");
    if (!CONFIG.case_lookup) {
      $("#case-form").hidden = true;
      $("#case-pending").hidden = false;
      return;
    }
    $("#case-form").addEventListener("submit", (event) => {
      event.preventDefault();
      lookUpCase($("#k-code").value);
    });
    card.dataset.ready = "true";
    const given = new URLSearchParams(location.search).get("case");
    if (given) lookUpCase(given.slice(0, 24));
  }

  // -- the eight published facts --------------------------------------------------------------------

  function fact(zh, en, lines) {
    return el("div", { class: "q-fact" },
      el("h3", {}, zh, " ", el("span", { class: "en" }, en)),
      el("ul", {}, lines.map((line) => el("li", {}, line))));
  }

  function factsOf(item) {
    const hall = state.catalog.hall;
    const materials = item.materials.map((m) => {
      const form = { original: "原件", copy: "复印件", original_and_copy: "原件及复印件" }[m.form] || m.form;
      return `${m.name}（${form}${m.copies > 1 ? `，${m.copies}份` : ""}）${m.notes ? `：${m.notes}` : ""}`;
    });
    const limit = item.case_kind === "promised" ? `${item.promised_days}个工作日内办结` : "即办（当场办结）";
    const fee = item.fee.free ? "不收费" : `￥${item.fee.amount_yuan}${item.fee.basis ? `（${item.fee.basis}）` : ""}`;
    return [
      fact("办事条件", "Conditions", item.conditions),
      fact("申报材料", "Materials", materials),
      fact("办理程序", "Procedure", item.procedure.map((step, i) => `${i + 1}．${step}`)),
      fact("承诺时限", "Time limit", [limit]),
      fact("收费标准", "Fees", [fee]),
      fact("经办科室", "Handled by", [item.department]),
      fact("监督电话", "Supervision phone", [item.supervision_phone || hall.supervision_phone]),
      fact("办事依据", "Legal basis", item.legal_basis),
    ];
  }

  function showItems() {
    const code = $("#guide-category").value;
    const items = state.catalog.items.filter((i) => i.category === code);
    $("#guide-item").replaceChildren(...items.map((i) => el("option", { value: i.id }, `${i.name_zh} ${i.name_en}`)));
    showFacts();
  }

  function showFacts() {
    const item = state.catalog.items.find((i) => i.id === $("#guide-item").value);
    $("#guide-facts").replaceChildren(...(item ? factsOf(item) : []));
  }

  async function loadCatalog() {
    const answer = await api("GET", `${CONFIG.api_path}/catalog`);
    if (answer.status !== 200) {
      $("#guide-facts").textContent = errorText(answer);
      return;
    }
    state.catalog = answer.body;
    const used = new Set(state.catalog.items.map((i) => i.category));
    $("#guide-category").replaceChildren(...state.catalog.categories.filter((c) => used.has(c.code))
      .map((c) => el("option", { value: c.code }, `${c.name_zh} ${c.name_en}`)));
    showItems();
  }

  // -- complaints -----------------------------------------------------------------------------------

  function mine() {
    try {
      const codes = JSON.parse(localStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(codes) ? codes.filter((c) => typeof c === "string" && CODE.test(c)) : [];
    } catch (_error) {
      return [];
    }
  }

  function remember(code) {
    const codes = [code, ...mine().filter((c) => c !== code)].slice(0, 20);
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(codes));
    } catch (_error) {
      /* private mode: the code is still on the screen */
    }
    showMine();
  }

  function showMine() {
    $("#a-mine").replaceChildren(...mine().map((code) =>
      el("li", {}, el("button", { type: "button", class: "link", dataset: { code }, onclick: () => lookUp(code) },
        `我的投诉 ${code}`))));
  }

  function showError(id, message) {
    const node = $("#" + id);
    node.textContent = message || "";
    node.hidden = !message;
  }

  async function submit(event) {
    event.preventDefault();
    const form = $("#complain-form");
    const body = { category: $("#c-category").value, text: $("#c-text").value.trim() };
    if ($("#c-window").value) body.window = Number($("#c-window").value);
    const caseCode = $("#c-case").value.trim();
    if (caseCode) body.case_code = caseCode;
    const contact = $("#c-contact").value.trim();
    if (contact) body.contact = contact;
    if (body.text.length < 5) {
      showError("c-error", "请填写投诉内容，至少5个字 (at least 5 characters)");
      return;
    }
    $("#c-submit").disabled = true;
    const answer = await api("POST", `${CONFIG.api_path}/complaints`, body);
    $("#c-submit").disabled = false;
    if (answer.status !== 201) {
      showError("c-error", errorText(answer));
      return;
    }
    showError("c-error", "");
    form.reset();
    $("#c-count").textContent = "0/1000";
    const filed = answer.body;
    remember(filed.code);
    $("#filed-code").textContent = filed.code;
    $("#filed-due").replaceChildren(`本中心将于 ${filed.due_on} 前答复 `,
      el("span", { class: "en" }, `to be answered by ${filed.due_on}`));
    $("#filed").hidden = false;
    $("#complain").hidden = true;
    $("#filed").scrollIntoView({ block: "start" });
  }

  async function lookUp(raw) {
    const code = raw.trim().toUpperCase();
    $("#a-code").value = code;
    if (!CODE.test(code)) {
      showError("a-error", "投诉编号为10位字母或数字 (a complaint code has 10 letters or digits)");
      $("#a-result").hidden = true;
      return;
    }
    const answer = await api("GET", `${CONFIG.api_path}/complaints/${encodeURIComponent(code)}`);
    if (answer.status !== 200) {
      showError("a-error", errorText(answer));
      $("#a-result").hidden = true;
      return;
    }
    showError("a-error", "");
    const v = (state.lastView = answer.body);
    $("#a-state").replaceChildren(el("span", {}, el("span", { class: `pill ${v.state}` }, v.state_zh), " ",
      el("span", { class: "en" }, v.state_en),
      v.late ? el("span", { class: "pill late" }, "超期答复 answered late") : null,
      v.overdue ? el("span", { class: "pill late" }, "已逾期 overdue") : null));
    $("#a-category").textContent = v.category_zh + (v.window ? ` · ${v.window}号窗口` : "");
    $("#a-day").textContent = v.day;
    $("#a-due").textContent = v.due_on;
    $("#a-answer").textContent = v.answer === null ? "尚未答复，请在期限后再查询 (not answered yet)" : v.answer;
    $("#a-result").hidden = false;
  }

  function initComplaints() {
    if (!CONFIG.complaints) {
      $("#complain-form").hidden = true;
      $("#complain-closed").hidden = false;
      return;
    }
    $("#complain-rules").textContent =
      `可实名或匿名投诉；本中心在${CONFIG.answer_working_days}个工作日内答复，凭投诉编号查询。` +
      ` Named or anonymous; answered within ${CONFIG.answer_working_days} working days.`;
    $("#c-category").replaceChildren(...CONFIG.complaint_categories.map(([code, zh, en]) =>
      el("option", { value: code }, `${zh} ${en}`)));
    $("#c-window").append(...CONFIG.windows.map((w) =>
      el("option", { value: String(w.number) }, `${w.number}号 ${w.name_zh} ${w.name_en}`)));
    $("#c-text").addEventListener("input", () => {
      $("#c-count").textContent = `${$("#c-text").value.length}/1000`;
    });
    $("#complain-form").addEventListener("submit", submit);
    $("#filed-again").addEventListener("click", () => {
      $("#filed").hidden = true;
      $("#complain").hidden = false;
    });
  }

  $("#address").textContent = CONFIG.address;
  $("#guide-category").addEventListener("change", showItems);
  $("#guide-item").addEventListener("change", showFacts);
  $("#answer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    lookUp($("#a-code").value);
  });
  initCaseLookup();
  initComplaints();
  showMine();
  Promise.all([loadFigures(), loadCatalog()]).then(() => document.body.classList.add("ready"));
})();
