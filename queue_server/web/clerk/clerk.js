/* 便民 Bianmin — the clerk console (窗口工作台).
 *
 * The clerk logs in, opens a window on the A or B post, and works it: call next, recall, start,
 * finish with a case class (六件管理), no-show, transfer, pause/resume, each with a key:
 *   C call next · R recall · S start · F finish · X no-show · T transfer · P pause / resume
 * and, in the finish dialog, 1–6 for the case class, Enter to confirm, Esc to cancel. A no-show asks
 * for a confirmation (focus on 取消, so X then Enter changes nothing); a click on a waiting number calls
 * it out of turn, with a reason (audited). The transfer dialog shows every window's state and queue;
 * a closed window cannot be chosen (the server refuses it: nobody would call the ticket there).
 * What the page shows comes from GET .../console/desk, re-read after every action and after every
 * event on the hall's websocket; the timers tick by the server's clock.
 */
"use strict";

(function () {
  const B = window.Bianmin;
  const { el, $, api, fmt, clock, bi, toast } = B;
  const CONFIG = B.CONFIG;
  const KEYS = { c: "call-next", r: "recall", s: "start", f: "finish", x: "no-show", t: "transfer", p: "pause" };
  // A due date counted past the calendar's last year (weekends only): the year's holidays may move it.
  const PROVISIONAL = "（暂定：该年放假安排未公布 provisional）";

  const state = {
    session: null,
    setup: null,
    desk: null,
    deskAt: 0, // clock.now() when the desk was read
    link: null,
    busy: false,
    windows: [], // GET /windows, for choosing a window and transferring
  };
  // For tests and for the curious: the page's state, read-only.
  window.bianminConsole = {
    get desk() {
      return state.desk;
    },
    get windows() {
      return state.windows;
    },
    get ready() {
      return document.body.classList.contains("ready");
    },
    // A request of the clerk's is on its way: the action keys wait for it (a key pressed now is dropped).
    get busy() {
      return state.busy;
    },
  };

  // -- start and login ----------------------------------------------------------------------------

  function init() {
    $("#hall-name").textContent = CONFIG.name_zh;
    wireActions();
    wireDialogs();
    document.addEventListener("keydown", onKey);
    setInterval(tick, 500);
    B.staffPage({ hide: ["#choose", "#work"], begin, onLogout });
    document.body.classList.add("ready");
  }

  function onLogout() {
    state.session = null;
    state.desk = null;
    $("#held-label").textContent = "";
    document.querySelectorAll("dialog[open]").forEach((d) => d.close());
  }

  async function begin(session) {
    state.session = session;
    try {
      state.setup = await api("GET", "console/setup");
    } catch (error) {
      toast(B.errorText(error), "error");
      return;
    }
    fillSetup();
    if (!state.link) {
      state.link = B.live(refresh, (online) => {
        const mark = $("#link-state");
        mark.classList.toggle("online", online);
        mark.replaceChildren(...(online ? bi("在线", "Live") : bi("离线", "Offline")));
      });
    }
    await refresh();
  }

  // -- reading the desk ---------------------------------------------------------------------------

  const deskReads = B.newest();
  async function refresh() {
    if (!state.session) return;
    const asked = deskReads.ask();
    try {
      const [desk, windows] = await Promise.all([api("GET", "console/desk"), api("GET", "windows")]);
      if (!deskReads.fresh(asked)) return; // a later read is on screen already
      state.desk = desk;
      state.windows = windows;
      clock.seen(desk.now);
      state.deskAt = clock.now();
      render();
      if (window.bianminCases) window.bianminCases.refresh(state.setup, desk);
    } catch (error) {
      if (error.status !== 401) toast(B.errorText(error), "error");
    }
  }

  function category(code) {
    return state.setup.categories.find((c) => c.code === code) || { name_zh: code, name_en: code, prefix: "" };
  }

  function item(id) {
    return state.setup.items.find((i) => i.id === id) || null;
  }

  function render() {
    const desk = state.desk;
    const held = desk.window;
    B.show($("#choose"), !held);
    B.show($("#work"), !!held);
    if (!held) {
      $("#held-label").textContent = "";
      renderChoices();
      return;
    }
    $("#held-label").replaceChildren(
      el("strong", {}, `${held.number}号 ${held.name_zh}`),
      " ",
      el("span", { class: "badge" }, `${held.post}岗`),
      " ",
      el("span", { class: `badge ${held.state}` }, B.WINDOW_STATES[held.state][0]),
    );
    renderCurrent();
    renderButtons();
    renderWaiting();
    renderToday();
    const paused = held.state === "paused";
    B.show($("#paused-banner"), paused);
    $("#paused-reason").textContent = held.paused_reason || "";
    tick();
  }

  function renderChoices() {
    const box = $("#window-choices");
    const mine = state.setup.windows.filter((w) => w.my_post);
    const ordered = [...mine, ...state.setup.windows.filter((w) => !w.my_post)];
    box.replaceChildren(
      ...ordered.map((w) => {
        const live = (state.windows.find((d) => d.window.number === w.number) || {}).window || {};
        const stateName = live.state || "closed";
        const holder = live.clerk_name ? `${live.clerk_name}（${live.post}岗）` : "";
        const postButton = (post) =>
          el(
            "button",
            {
              type: "button",
              class: w.my_post === post ? "primary" : "",
              dataset: { window: w.number, post },
              onclick: () => openWindow(w.number, post),
            },
            `${post}岗开窗`,
            " ",
            el("span", { class: "en" }, `Open as ${post}`),
          );
        return el(
          "div",
          { class: `window-choice ${w.my_post ? "mine" : ""}`, dataset: { window: w.number } },
          el("div", { class: "choice-title" }, el("strong", {}, `${w.number}号`), " ", w.name_zh),
          el("div", { class: "en" }, w.name_en),
          el("div", { class: "choice-cats" }, w.categories.map((c) => category(c).name_zh).join("、")),
          el(
            "div",
            { class: "choice-state" },
            el("span", { class: `badge ${stateName}` }, B.WINDOW_STATES[stateName][0]),
            " ",
            holder,
            w.my_post ? el("span", { class: "badge green" }, `您是${w.my_post}岗`) : null,
          ),
          el("div", { class: "choice-buttons" }, postButton("A"), postButton("B")),
        );
      }),
    );
  }

  function renderCurrent() {
    const current = state.desk.current;
    $("#current-number").textContent = current ? current.number : "—";
    $("#current").classList.toggle("serving", !!current && current.state === "serving");
    $("#current").classList.toggle("called", !!current && current.state === "called");
    const badge = $("#current-state");
    if (current) {
      badge.className = `badge ${current.state}`;
      badge.replaceChildren(...bi(...B.TICKET_STATES[current.state]));
      const cat = category(current.category);
      const it = current.item_id ? item(current.item_id) : null;
      $("#current-item").replaceChildren(
        el("span", { class: "cat" }, cat.name_zh),
        it ? ` · ${it.name_zh}` : " · 按类别取号",
        el("div", { class: "en" }, it ? it.name_en : cat.name_en),
      );
      const left = state.setup.recall_limit - current.recalls;
      $("#recalls").textContent = `${current.recalls} / ${state.setup.recall_limit}`;
      $("#recalls").title = left > 0 ? `还可重呼 ${left} 次` : "重呼次数已用完，可标记过号";
      const priority = B.PRIORITIES[current.priority];
      B.show($("#current-priority"), !!priority);
      if (priority) $("#current-priority").textContent = priority[0];
      const due = $("#current-due");
      B.show(due, !!current.due_date || !!current.case);
      if (current.case) {
        // A 补办 return visit: the case it belongs to, and what the citizen was asked to bring.
        due.textContent = `补办件 ${current.case.code}：缺 ${current.case.missing_materials.join("、") || "—"}（办结期限 ${current.case.due_on || "—"}） Return visit: missing ${current.case.missing_materials.length}`;
      } else if (current.due_date) {
        due.textContent = `承诺件：${current.promised_days}个工作日，办结期限 ${current.due_date}${current.due_provisional ? PROVISIONAL : ""}`;
      }
    } else {
      badge.className = "badge";
      badge.replaceChildren(...bi("空闲", "Idle"));
      $("#current-item").replaceChildren(...bi("按 C 叫下一位", "Press C to call the next number"));
      $("#recalls").textContent = "—";
      B.show($("#current-priority"), false);
      B.show($("#current-due"), false);
    }
  }

  /** Which actions the window's state allows now (the server checks again). */
  function allowed() {
    const desk = state.desk;
    const held = desk && desk.window;
    const current = desk && desk.current;
    const open = held && held.state === "open";
    const called = current && current.state === "called";
    const serving = current && current.state === "serving";
    return {
      "call-next": open && !current,
      recall: open && called && current.recalls < state.setup.recall_limit,
      start: open && called,
      finish: open && serving,
      "no-show": open && called,
      transfer: open && (called || serving),
      pause: (open && !current) || (held && held.state === "paused"),
      resume: held && held.state === "paused",
      close: held && !serving,
    };
  }

  function renderButtons() {
    const can = allowed();
    const paused = state.desk.window.state === "paused";
    const pause = $('#actions [data-action="pause"]');
    pause.replaceChildren(...(paused ? bi("恢复", "Resume") : bi("暂停", "Pause")), " ", el("kbd", {}, "P"));
    pause.classList.toggle("resume", paused);
    const current = state.desk.current;
    const recall = $('#actions [data-action="recall"]');
    const limit = state.setup.recall_limit;
    recall.replaceChildren(
      ...bi("重呼", "Recall"),
      " ",
      el("span", { class: "recall-count", id: "recall-count" }, current ? `${current.recalls}/${limit}` : `0/${limit}`),
      " ",
      el("kbd", {}, "R"),
    );
    for (const button of document.querySelectorAll("#actions [data-action]")) {
      button.disabled = state.busy || !can[button.dataset.action];
    }
  }

  /** The marks of a waiting ticket: priority (绿色通道 / 预约) and where a transfer came from. */
  function marks(t) {
    const out = [];
    if (t.priority === "green") out.push(el("span", { class: "badge green", dataset: { mark: "green" } }, "绿色通道"));
    if (t.priority === "appointment") {
      out.push(el("span", { class: "badge appointment", dataset: { mark: "appointment" } }, "预约"));
    }
    if (t.transferred) {
      const from = t.from_window ? `由${t.from_window}号窗口转入` : "转入";
      const was = t.from_category && t.from_category !== t.category ? `（原${category(t.from_category).name_zh}）` : "";
      out.push(
        el(
          "span",
          { class: "badge transfer", dataset: { mark: "transfer" }, title: t.transfer_reason ? `原因：${t.transfer_reason}` : null },
          `${from}${was}`,
        ),
      );
    }
    return out;
  }

  function renderWaiting() {
    const waiting = state.desk.waiting;
    $("#waiting-count").textContent = String(waiting.length);
    B.show($("#waiting-empty"), waiting.length === 0);
    const canCall = allowed()["call-next"];
    $("#waiting-list").replaceChildren(
      ...waiting.map((t) =>
        el(
          "tr",
          { dataset: { number: t.number } },
          el(
            "td",
            { class: "ticket-no" },
            el(
              "button",
              {
                type: "button",
                class: "call-this",
                disabled: !canCall || state.busy,
                title: "指定叫号 Call this number",
                onclick: () => callNumberDialog(t),
              },
              t.number,
            ),
          ),
          el("td", {}, category(t.category).name_zh),
          el("td", { class: "marks" }, marks(t)),
          el("td", { class: "num waited", dataset: { waited: t.waited_s } }, fmt.duration(t.waited_s)),
        ),
      ),
    );
  }

  function renderToday() {
    const desk = state.desk;
    const figures = desk.today_window || desk.today_me;
    $("#today-scope").textContent = desk.today_window ? `${desk.window.number}号窗口` : "本人";
    const tile = (zh, en, value, key) =>
      el("div", { class: "tile", dataset: { figure: key } }, el("div", { class: "value" }, value), el("div", { class: "label" }, zh, el("span", { class: "en" }, en)));
    $("#today").replaceChildren(
      tile("叫号", "called", figures.called, "called"),
      tile("办结", "served", figures.served, "served"),
      tile("过号", "no-shows", figures.no_shows, "no_shows"),
      tile("平均等候(分)", "avg wait", fmt.minutes(figures.avg_wait_s), "avg_wait"),
      tile("平均办理(分)", "avg service", fmt.minutes(figures.avg_service_s), "avg_service"),
      ...B.CASE_CLASSES.map((c) => tile(c.zh, c.en, figures.case_classes[c.code], `case-${c.code}`)),
    );
  }

  /** The timers, twice a second, by the server's clock. */
  function tick() {
    const desk = state.desk;
    if (!desk || !desk.window) return;
    const current = desk.current;
    if (current && current.state === "serving") {
      $("#timer-label").replaceChildren(...bi("办理用时", "Service time"));
      $("#timer").textContent = fmt.duration(clock.since(current.started_at));
    } else if (current) {
      $("#timer-label").replaceChildren(...bi("叫号后", "Since the call"));
      $("#timer").textContent = fmt.duration(clock.since(current.called_at));
    } else {
      $("#timer-label").replaceChildren(...bi("办理用时", "Service time"));
      $("#timer").textContent = "—";
    }
    $("#waited").textContent = current ? fmt.duration(current.waited_s) : "—";
    autoNoShow(current);
    const late = (clock.now() - state.deskAt) / 1000;
    for (const cell of document.querySelectorAll("#waiting-list .waited")) {
      cell.textContent = fmt.duration(Number(cell.dataset.waited) + late);
    }
    if (desk.window.state === "paused") {
      const seconds = clock.since(desk.window.since);
      $("#paused-for").textContent = `已暂停 ${fmt.duration(seconds)}`;
      $("#paused-banner").classList.toggle("overdue", seconds >= state.setup.pause_alert_minutes * 60);
    }
  }

  /** The countdown to the automatic no-show, once the last recall is made (the server marks it). */
  function autoNoShow(current) {
    const box = $("#auto-no-show");
    const at = current && current.state === "called" ? current.no_show_at : null;
    B.show(box, !!at);
    if (!at) return;
    const left = Math.max(0, Math.ceil((Date.parse(at) - clock.now()) / 1000));
    box.replaceChildren(
      `未到场将于 ${fmt.duration(left)} 后自动过号`,
      el("span", { class: "en", lang: "en" }, ` Automatic no-show in ${fmt.duration(left)} unless the citizen comes`),
    );
    box.classList.toggle("soon", left <= 30);
  }

  // -- acting -------------------------------------------------------------------------------------

  async function act(path, body) {
    const number = state.desk.window.number;
    state.busy = true;
    renderButtons();
    try {
      return await api("POST", `windows/${number}/${path}`, body);
    } finally {
      state.busy = false;
      await refresh();
    }
  }

  async function run(action) {
    const can = allowed();
    if (action === "pause" && state.desk.window.state === "paused") action = "resume";
    if (!can[action] || state.busy) return;
    try {
      if (action === "call-next") {
        const answer = await act("call-next");
        if (answer === null) toast("暂无等候的群众 Nobody is waiting for this window", "info");
        else toast(`请 ${answer.ticket.number} 号到 ${state.desk.window.number} 号窗口`, "ok");
      } else if (action === "recall" || action === "start" || action === "resume") {
        await act(action);
      } else if (action === "no-show") {
        await noShowDialog();
      } else if (action === "finish") {
        await finishDialog();
      } else if (action === "transfer") {
        await transferDialog();
      } else if (action === "pause") {
        await pauseDialog();
      } else if (action === "close") {
        if (confirm("关闭本窗口？ Close this window?")) await act("close");
      }
    } catch (error) {
      toast(B.errorText(error), "error");
    }
  }

  async function openWindow(number, post) {
    try {
      await api("POST", `windows/${number}/open`, { post });
      toast(`已开启${number}号窗口（${post}岗） Window ${number} open`, "ok");
    } catch (error) {
      toast(B.errorText(error), "error");
    }
    await refresh();
  }

  function wireActions() {
    for (const button of document.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => run(button.dataset.action));
    }
  }

  /** Whether a key goes into a text field (a radio button or a checkbox takes no text). */
  function typing(target) {
    if (!target) return false;
    if (target.tagName === "INPUT") return !["radio", "checkbox", "button", "submit"].includes(target.type);
    return target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT";
  }

  function onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || !state.desk || !state.desk.window) return;
    const dialog = document.querySelector("dialog[open]");
    if (dialog) {
      if (dialog.id === "finish-dialog") finishKey(event);
      return;
    }
    if (typing(event.target)) return;
    const action = KEYS[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      run(action);
    }
  }

  // -- dialogs ------------------------------------------------------------------------------------

  function wireDialogs() {
    for (const button of document.querySelectorAll("dialog [data-close]")) {
      button.addEventListener("click", () => button.closest("dialog").close(""));
    }
    const radios = $("#case-classes");
    B.CASE_CLASSES.forEach((c, i) => {
      radios.append(
        el(
          "label",
          { class: "case-class", dataset: { case: c.code } },
          el("input", { type: "radio", name: "case_class", value: c.code, onchange: showCaseFields }),
          el("kbd", {}, String(i + 1)),
          el("span", { class: "zh" }, c.zh),
          el("span", { class: "en" }, c.en),
        ),
      );
    });
    const form = $("#finish-form");
    form.elements.promised_days.addEventListener("input", previewDue);
    $("#supplement-item").addEventListener("change", () => fillMaterials($("#supplement-item").value));
    $("#notice-print").addEventListener("click", printNotice);
  }

  function fillSetup() {
    const setup = state.setup;
    $("#departments").replaceChildren(...setup.departments.map((d) => el("option", { value: d })));
    $("#return-reasons").replaceChildren(...setup.return_reasons.map((r) => el("option", { value: r.split(" ")[0] })));
    $("#pause-reasons").replaceChildren(
      ...setup.pause_reasons.map((r) =>
        el(
          "button",
          {
            type: "button",
            onclick: () => {
              const input = $("#pause-form").elements.reason;
              input.value = r.split(" ")[0];
              input.focus(); // Enter now pauses
            },
          },
          r,
        ),
      ),
    );
  }

  function chosenCase() {
    const checked = $("#finish-form").querySelector('input[name="case_class"]:checked');
    return checked ? checked.value : null;
  }

  function showCaseFields() {
    const chosen = chosenCase();
    for (const box of document.querySelectorAll("#finish-form .case-fields")) {
      B.show(box, box.dataset.case === chosen);
    }
    for (const label of document.querySelectorAll("#case-classes .case-class")) {
      label.classList.toggle("chosen", label.dataset.case === chosen);
    }
    if (chosen === "promised") previewDue();
  }

  function chooseCase(code) {
    const radio = $(`#finish-form input[name="case_class"][value="${code}"]`);
    radio.checked = true;
    radio.focus();
    showCaseFields();
  }

  function finishKey(event) {
    if (/^[1-6]$/.test(event.key) && !typing(event.target)) {
      event.preventDefault();
      chooseCase(B.CASE_CLASSES[Number(event.key) - 1].code);
    } else if (event.key === "Enter" && event.target.tagName !== "TEXTAREA" && event.target.tagName !== "BUTTON") {
      event.preventDefault();
      $("#finish-form").requestSubmit();
    }
  }

  let dueRequest = 0;
  async function previewDue() {
    const days = Number($("#finish-form").elements.promised_days.value);
    const preview = $("#due-preview");
    if (!days || days < 1 || days > 365) {
      preview.textContent = "请填写1–365个工作日 Give 1–365 working days";
      return;
    }
    const mine = ++dueRequest;
    try {
      const answer = await api("GET", `console/due-date?days=${days}`);
      if (mine === dueRequest) {
        preview.replaceChildren(
          "承诺办结日期 ",
          el("strong", { id: "due-date" }, answer.due_date),
          answer.provisional ? el("span", { id: "due-provisional", class: "provisional" }, PROVISIONAL) : "",
          el("span", { class: "en" }, ` due ${answer.due_date}`),
        );
      }
    } catch (error) {
      preview.textContent = B.errorText(error);
    }
  }

  function fillMaterials(itemId) {
    const it = item(itemId);
    $("#materials").replaceChildren(
      ...(it ? it.materials : []).map((m) =>
        el(
          "label",
          { class: "inline material" },
          el("input", { type: "checkbox", name: "material", value: m.name }),
          ` ${m.name}`,
          el("span", { class: "en" }, ` ${m.form_zh}${m.copies > 1 ? ` ×${m.copies}` : ""}`),
        ),
      ),
    );
  }

  async function finishDialog() {
    const current = state.desk.current;
    const form = $("#finish-form");
    form.reset();
    $("#finish-error").textContent = "";
    $("#finish-number").textContent = current.number;
    const it = current.item_id ? item(current.item_id) : null;
    form.elements.promised_days.value = current.promised_days || (it && it.promised_days) || "";
    const choices = state.setup.items.filter((i) => i.category === current.category);
    $("#supplement-item").replaceChildren(...choices.map((i) => el("option", { value: i.id }, i.name_zh)));
    if (it) $("#supplement-item").value = it.id;
    fillMaterials($("#supplement-item").value);
    const dialog = $("#finish-dialog");
    const submitted = new Promise((resolve) => {
      form.onsubmit = async (event) => {
        event.preventDefault();
        const body = finishBody(form);
        if (!body) return;
        const phone = form.elements.contact_phone.value.trim();
        if (phone) body.contact_phone = phone;
        try {
          const answer = await act("finish", body);
          dialog.close("ok");
          resolve(true);
          toast(`${current.number} 已办结（${B.CASE_CLASSES.find((c) => c.code === body.case_class).zh}），办件编号 ${answer.case_code}${answer.due_date ? `，办结期限 ${answer.due_date}${answer.due_provisional ? PROVISIONAL : ""}` : ""}`, "ok");
          if (body.case_class === "supplement" && form.elements.print_notice.checked) {
            await showNotice($("#supplement-item").value, body.missing_materials, answer.case_code);
          }
        } catch (error) {
          $("#finish-error").textContent = B.errorText(error);
        }
      };
    });
    const closed = B.modal(dialog);
    chooseCase(it && it.case_kind === "promised" ? "promised" : "immediate");
    await Promise.race([submitted, closed]);
  }

  function finishBody(form) {
    const chosen = chosenCase();
    const error = $("#finish-error");
    const body = { case_class: chosen };
    const text = (name) => form.elements[name].value.trim();
    if (chosen === "promised") {
      const days = Number(form.elements.promised_days.value);
      if (!days) {
        error.textContent = "请填写承诺办结工作日 Give the promised working days";
        return null;
      }
      body.promised_days = days;
    } else if (chosen === "supplement") {
      const picked = [...form.querySelectorAll('input[name="material"]:checked')].map((box) => box.value);
      const other = form.elements.other_materials.value.split("\n").map((s) => s.trim()).filter(Boolean);
      body.missing_materials = [...picked, ...other];
      if (!body.missing_materials.length) {
        error.textContent = "请选择缺少的材料 Pick the missing materials";
        return null;
      }
    } else if (chosen === "joint") {
      body.next_department = text("next_department");
    } else if (chosen === "returned") {
      body.reason = text("reason");
    } else if (chosen === "agent") {
      body.agent_name = text("agent_name");
    }
    return body;
  }

  async function showNotice(itemId, materials, caseCode) {
    try {
      const blob = await api(
        "POST",
        "console/supplement-notice",
        { item_id: itemId, materials, window: state.desk.window.number, case_code: caseCode || null },
        { blob: true },
      );
      const image = $("#notice-image");
      if (image.src) URL.revokeObjectURL(image.src);
      image.src = URL.createObjectURL(blob);
      B.modal($("#notice-dialog"));
    } catch (error) {
      toast(`补正告知书未能生成：${B.errorText(error)}`, "error");
    }
  }

  function printNotice() {
    const area = $("#print-area");
    area.replaceChildren(el("img", { src: $("#notice-image").src, alt: "补正告知书" }));
    window.print();
  }

  async function transferDialog() {
    const current = state.desk.current;
    const held = state.desk.window.number;
    const form = $("#transfer-form");
    form.reset();
    $("#transfer-error").textContent = "";
    $("#transfer-number").textContent = current.number;
    // Each window with its state and queue (GET .../windows); a closed one is listed but cannot be chosen:
    // the server refuses it (nobody would call the ticket there).
    const live = new Map(state.windows.map((d) => [d.window.number, d]));
    $("#transfer-window").replaceChildren(
      el("option", { value: "" }, "—"),
      ...state.setup.windows
        .filter((w) => w.number !== held)
        .map((w) => {
          const d = live.get(w.number);
          const windowState = d ? d.window.state : "closed";
          const queue = d ? d.waiting.length : 0;
          const label = `${w.number}号 ${w.name_zh} · ${B.WINDOW_STATES[windowState][0]} · ${
            windowState === "closed" ? "不可转入" : `等候${queue}人`
          }`;
          return el(
            "option",
            { value: w.number, disabled: windowState === "closed", dataset: { state: windowState, queue } },
            label,
          );
        }),
    );
    $("#transfer-category").replaceChildren(
      el("option", { value: "" }, "—"),
      ...state.setup.categories.map((c) => el("option", { value: c.code }, `${c.prefix} ${c.name_zh}`)),
    );
    const dialog = $("#transfer-dialog");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const toWindow = form.elements.to_window.value;
      const toCategory = form.elements.to_category.value;
      if (!toWindow === !toCategory) {
        $("#transfer-error").textContent = "请选择一个窗口或一个业务类别 Choose one window or one category";
        return;
      }
      const body = { reason: form.elements.reason.value.trim() || null };
      if (toWindow) body.to_window = Number(toWindow);
      else body.to_category = toCategory;
      try {
        await act("transfer", body);
        dialog.close("ok");
        toast(`${current.number} 已转移 transferred`, "ok");
      } catch (error) {
        $("#transfer-error").textContent = B.errorText(error);
      }
    };
    await B.modal(dialog);
  }

  /** A manual no-show asks first: one stray key must not cost a citizen their turn. */
  async function noShowDialog() {
    const current = state.desk.current;
    const form = $("#no-show-form");
    $("#no-show-error").textContent = "";
    $("#no-show-number").textContent = current.number;
    $("#no-show-about").replaceChildren(
      `叫号后 ${fmt.duration(clock.since(current.called_at))}，已重呼 ${current.recalls}/${state.setup.recall_limit} 次。`,
      el("span", { class: "en", lang: "en" }, ` Called ${fmt.duration(clock.since(current.called_at))} ago, recalled ${current.recalls} of ${state.setup.recall_limit} times.`),
    );
    const dialog = $("#no-show-dialog");
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await act("no-show");
        dialog.close("ok");
        toast(`${current.number} 已过号 marked as a no-show`, "ok");
      } catch (error) {
        $("#no-show-error").textContent = B.errorText(error);
      }
    };
    const closed = B.modal(dialog);
    $("#no-show-cancel").focus(); // Enter right away cancels; confirming takes a deliberate click or Tab
    await closed;
  }

  /** Call a waiting number out of turn (POST .../call): the reason is asked and goes into the audit trail. */
  async function callNumberDialog(ticket) {
    if (!allowed()["call-next"] || state.busy) return;
    const form = $("#call-form");
    form.reset();
    $("#call-error").textContent = "";
    $("#call-number").textContent = ticket.number;
    const dialog = $("#call-dialog");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const reason = form.elements.reason.value.trim();
      if (!reason) {
        $("#call-error").textContent = "请填写指定叫号的原因 Give the reason";
        return;
      }
      try {
        const answer = await act("call", { number: ticket.number, reason });
        dialog.close("ok");
        toast(`请 ${answer.ticket.number} 号到 ${state.desk.window.number} 号窗口`, "ok");
      } catch (error) {
        $("#call-error").textContent = B.errorText(error);
      }
    };
    const closed = B.modal(dialog);
    form.elements.reason.focus();
    await closed;
  }

  async function pauseDialog() {
    const form = $("#pause-form");
    form.reset();
    $("#pause-error").textContent = "";
    const dialog = $("#pause-dialog");
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await act("pause", { reason: form.elements.reason.value.trim() });
        dialog.close("ok");
      } catch (error) {
        $("#pause-error").textContent = B.errorText(error);
      }
    };
    const closed = B.modal(dialog);
    form.elements.reason.focus();
    await closed;
  }

  document.addEventListener("DOMContentLoaded", init);
})();
