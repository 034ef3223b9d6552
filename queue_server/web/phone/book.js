/* 便民 Bianmin: booking an appointment (办事预约) on the citizen's phone.
 *
 * Choose a category and (optionally) an item, a working day and a slot with places left; the answer
 * is a code and its QR code to show at the kiosk. The codes this phone booked are kept in its own
 * storage (localStorage: nothing leaves the phone), listed under 我的预约 with their state, and can
 * be cancelled before their slot begins. `#code=XXXXXXXX` in the address shows one appointment.
 * window.bianminBook exposes the page's state for tests.
 */
"use strict";

(() => {
  const { CONFIG, $, el, api, errorText, timeOf, showError, hideError } = window.Phone;
  const STORE_KEY = `bianmin.appointments.${CONFIG.hall}`;
  const MAX_KEPT = 20;
  const book = { availability: null, day: null, slot: null, shown: null, mine: [] };
  window.bianminBook = book;

  // ---- my appointments, in this phone's storage ---------------------------------------------------

  function kept() {
    try {
      const codes = JSON.parse(localStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(codes) ? codes.filter((c) => typeof c === "string" && /^[A-Za-z0-9]{8}$/.test(c)) : [];
    } catch (_error) {
      return [];
    }
  }

  function keep(code) {
    const codes = [code, ...kept().filter((c) => c !== code)].slice(0, MAX_KEPT);
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(codes));
    } catch (_error) {
      // private browsing: the code is on the screen, and the citizen was told to keep it
    }
  }

  async function loadMine() {
    const views = [];
    for (const code of kept()) {
      const answer = await api("GET", `${CONFIG.api_path}/${code}`);
      if (answer.status === 200) views.push(answer.body);
    }
    book.mine = views;
    const list = $("#mine-list");
    list.replaceChildren(
      ...views.map((v) =>
        el(
          "li",
          { dataset: { code: v.code, state: v.state } },
          el("button", { type: "button", class: "link", onclick: () => show(v), text: `${dayText(v.day)} ${v.start}` }),
          el("span", { class: "mine-what", text: v.item_name_zh || v.category_name_zh }),
          el("span", { class: `pill ${v.state}`, text: v.state_label_zh }),
        ),
      ),
    );
    $("#mine").hidden = views.length === 0;
  }

  // ---- choosing ------------------------------------------------------------------------------------

  const WEEKDAYS = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];

  function dayText(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1, d));
    return `${m}月${d}日 ${WEEKDAYS[date.getUTCDay()]}`;
  }

  function fillCategories() {
    const select = $("#category");
    select.replaceChildren(
      ...CONFIG.categories.map((c) => el("option", { value: c.code, text: `${c.name_zh}  ${c.name_en}` })),
    );
    select.addEventListener("change", () => {
      fillItems();
      loadSlots();
    });
    $("#item").addEventListener("change", loadSlots);
    fillItems();
  }

  function fillItems() {
    const category = $("#category").value;
    const items = CONFIG.items.filter((i) => i.category === category);
    $("#item").replaceChildren(
      el("option", { value: "", text: "不指定事项（按类别预约）" }),
      ...items.map((i) => el("option", { value: i.id, text: i.name_zh })),
    );
  }

  let slotsAsked = 0;
  async function loadSlots() {
    const item = $("#item").value;
    const query = item ? `item_id=${encodeURIComponent(item)}` : `category=${encodeURIComponent($("#category").value)}`;
    const mine = ++slotsAsked;
    book.day = null;
    book.slot = null;
    $("#days").replaceChildren(); // the days and times shown were those of the previous choice
    $("#slots").replaceChildren();
    updateButton();
    const answer = await api("GET", `${CONFIG.api_path}/slots?${query}`);
    // Only the answer to the newest choice is shown: an older one arriving late would redraw the days of
    // a category no longer chosen, or take away the slot the citizen picked meanwhile.
    if (mine !== slotsAsked) return;
    if (answer.status !== 200) {
      showError("book-error", errorText(answer));
      return;
    }
    hideError("book-error");
    book.availability = answer.body;
    const days = answer.body.days;
    $("#no-days").hidden = days.length > 0;
    $("#days").replaceChildren(
      ...days.map((d) => {
        const left = d.slots.filter((s) => s.open).reduce((n, s) => n + s.left, 0);
        return el(
          "button",
          {
            type: "button",
            class: "day",
            role: "radio",
            "aria-checked": "false",
            disabled: left === 0,
            dataset: { day: d.day },
            onclick: () => chooseDay(d.day),
          },
          el("span", { class: "d", text: dayText(d.day) }),
          el("span", { class: "left", text: left ? `余${left}` : "约满" }),
          // The day's year has no official holiday schedule yet: the hall may close that day.
          d.provisional ? el("span", { class: "provisional", text: "暂定", title: "provisional: the holiday schedule of this year is not out yet" }) : null,
        );
      }),
    );
    const first = days.find((d) => d.slots.some((s) => s.open && s.left > 0));
    if (first) chooseDay(first.day);
    else $("#slots").replaceChildren();
  }

  function chooseDay(day) {
    book.day = day;
    book.slot = null;
    for (const b of document.querySelectorAll("#days .day")) b.setAttribute("aria-checked", String(b.dataset.day === day));
    const found = book.availability.days.find((d) => d.day === day);
    $("#slots").replaceChildren(
      ...found.slots.map((s) =>
        el(
          "button",
          {
            type: "button",
            class: "slot",
            role: "radio",
            "aria-checked": "false",
            disabled: !s.open || s.left === 0,
            dataset: { start: s.start },
            onclick: () => chooseSlot(s.start),
          },
          el("span", { class: "t", text: `${s.start}–${s.end}` }),
          el("span", { class: "left", text: !s.open ? "已过" : s.left ? `余${s.left}` : "约满" }),
        ),
      ),
    );
    updateButton();
  }

  function chooseSlot(start) {
    book.slot = start;
    for (const b of document.querySelectorAll("#slots .slot")) b.setAttribute("aria-checked", String(b.dataset.start === start));
    updateButton();
  }

  function updateButton() {
    const button = $("#book");
    button.disabled = !(book.day && book.slot);
    button.firstChild.textContent = book.day && book.slot ? `确认预约 ${dayText(book.day)} ${book.slot} ` : "确认预约 ";
  }

  async function submit() {
    const item = $("#item").value;
    const body = item ? { item_id: item } : { category: $("#category").value };
    body.day = book.day;
    body.start = book.slot;
    $("#book").disabled = true;
    const answer = await api("POST", CONFIG.api_path, body);
    if (answer.status === 201) {
      hideError("book-error");
      keep(answer.body.code);
      show(answer.body);
      loadMine();
      return;
    }
    showError("book-error", errorText(answer));
    loadSlots();
  }

  // ---- one appointment ------------------------------------------------------------------------------


  function show(view) {
    book.shown = view;
    $("#form").hidden = true;
    $("#result").hidden = false;
    $("#result").dataset.state = view.state;
    $("#result-title").firstChild.textContent = view.state === "booked" ? "预约成功 " : `预约${view.state_label_zh} `;
    $("#result-code").textContent = `${view.code.slice(0, 4)} ${view.code.slice(4)}`;
    $("#result-qr").src = view.qr_path;
    $("#result-qr").hidden = view.state !== "booked";
    $("#result-what").textContent = view.item_name_zh
      ? `${view.item_name_zh}（${view.category_name_zh}）`
      : `${view.category_name_zh}（按类别预约）`;
    $("#result-when").textContent = `${dayText(view.day)} ${view.start}–${view.end}`;
    $("#result-state").textContent = view.ticket_number
      ? `${view.state_label_zh}：${view.ticket_number}`
      : view.state_label_zh;
    $("#result-checkin").textContent = `${timeOf(view.check_in_from)}–${timeOf(view.check_in_until)} 到取号机签到`;
    $("#cancel").hidden = view.state !== "booked";
    hideError("result-error");
    history.replaceState(null, "", `#code=${view.code}`);
    window.scrollTo(0, 0);
  }

  async function cancel() {
    const view = book.shown;
    if (!view || !window.confirm(`确定取消 ${dayText(view.day)} ${view.start} 的预约吗？`)) return;
    const answer = await api("POST", `${CONFIG.api_path}/${view.code}/cancel`);
    if (answer.status === 200) {
      show(answer.body);
      loadMine();
    } else {
      showError("result-error", errorText(answer));
    }
  }

  function again() {
    book.shown = null;
    history.replaceState(null, "", location.pathname);
    $("#result").hidden = true;
    $("#form").hidden = false;
    loadSlots();
  }



  async function start() {
    if (!CONFIG.enabled || CONFIG.categories.length === 0) {
      $("#closed").hidden = false;
      $("#form").hidden = true;
      return;
    }
    $("#address").textContent = CONFIG.address;
    $("#rules").textContent =
      `可预约今天起${CONFIG.days_ahead}天内的工作日，每个时段${CONFIG.slot_minutes}分钟；` +
      `请在预约时段开始前${CONFIG.check_in_early_minutes}分钟至开始后${CONFIG.check_in_late_minutes}分钟内签到，逾时视为失约。`;
    fillCategories();
    $("#book").addEventListener("click", submit);
    $("#cancel").addEventListener("click", cancel);
    $("#again").addEventListener("click", again);
    const wanted = /^#code=([A-Za-z0-9]{8})$/.exec(location.hash);
    if (wanted) {
      const answer = await api("GET", `${CONFIG.api_path}/${wanted[1]}`);
      if (answer.status === 200) show(answer.body);
    }
    await loadSlots();
    await loadMine();
    document.body.classList.add("ready");
  }

  start();
})();
