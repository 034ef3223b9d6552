/* 便民 Bianmin: 远程取号 on the citizen's phone — a place in today's queue, checked in at the hall's kiosk.
 *
 * The page shows whether remote tickets are taken now (and when they are), the chosen category's waiting count,
 * estimate and places left; 远程取号 answers a code and its QR code to check in at the kiosk (预约签到) by the
 * time to arrive. The place is kept from the moment it is taken; the page re-reads it every 15 s (people ahead
 * of the place, its state) and, once checked in, links to the ticket's tracking page. The phone is known to the
 * server by a random id kept in this page's storage (no account, no phone number); the code taken is kept
 * there too, so the page shows it again when reopened. `#code=XXXXXXXX` shows one. window.bianminJoin exposes
 * the page's state for tests.
 */
"use strict";

(() => {
  const { CONFIG, $, el, api, errorText, waitText, timeOf, showError, hideError } = window.Phone;
  const DEVICE_KEY = "bianmin.device";
  const MINE_KEY = `bianmin.remote.${CONFIG.hall}`;
  const REFRESH_MS = 15000;
  const join = { status: null, shown: null, refresh: null };
  window.bianminJoin = join;

  function stored(key) {
    try {
      return localStorage.getItem(key);
    } catch (_error) {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (_error) {
      // private browsing: the code is on the screen, and the citizen was told to keep it
    }
  }

  function deviceId() {
    let id = stored(DEVICE_KEY);
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = "p" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      store(DEVICE_KEY, id);
    }
    return id;
  }


  // ---- before taking ---------------------------------------------------------------------------------

  function fillChoices() {
    $("#category").replaceChildren(
      ...CONFIG.categories.map((c) => el("option", { value: c.code, text: `${c.name_zh}  ${c.name_en}` })),
    );
    $("#category").addEventListener("change", () => {
      fillItems();
      showCategory();
    });
    fillItems();
  }

  function fillItems() {
    const category = $("#category").value;
    $("#item").replaceChildren(
      el("option", { value: "", text: "不指定事项（按类别取号）" }),
      ...CONFIG.items.filter((i) => i.category === category).map((i) => el("option", { value: i.id, text: i.name_zh })),
    );
  }

  async function loadStatus() {
    const answer = await api("GET", CONFIG.api_path);
    if (answer.status !== 200) {
      showError("take-error", errorText(answer));
      return;
    }
    join.status = answer.body;
    const s = answer.body;
    $("#hours").textContent = s.open
      ? `远程取号时间：${s.sessions.join("、")}。取号后请在${s.arrive_within_minutes}分钟内到大厅签到（最多延后${s.grace_minutes}分钟）。` +
        ` Remote tickets ${s.sessions.join(", ")}; check in at the hall within ${s.arrive_within_minutes} minutes.`
      : `${s.reason_zh}。 ${s.reason_en}.`;
    $("#hours").dataset.open = String(s.open);
    showCategory();
  }

  function showCategory() {
    const s = join.status;
    if (!s) return;
    const found = s.categories.find((c) => c.code === $("#category").value);
    $("#waiting").textContent = found ? `${found.waiting}人` : "—";
    $("#wait").textContent = found && found.wait_s !== null ? waitText(found.wait_s) : "—";
    $("#left").textContent = found ? `${found.left} / ${found.quota}` : "—";
    $("#take").disabled = !s.open || !found || found.left === 0;
  }

  async function take() {
    const item = $("#item").value;
    const body = item ? { item_id: item } : { category: $("#category").value };
    body.device_id = deviceId();
    $("#take").disabled = true;
    const answer = await api("POST", CONFIG.api_path, body);
    if (answer.status === 201) {
      hideError("take-error");
      store(MINE_KEY, answer.body.code);
      show(answer.body);
      return;
    }
    showError("take-error", errorText(answer));
    await loadStatus();
  }

  // ---- the place taken -------------------------------------------------------------------------------

  function show(view) {
    join.shown = view;
    $("#form").hidden = true;
    $("#result").hidden = false;
    $("#result").dataset.state = view.state;
    const open = view.state === "booked";
    $("#result-title").firstChild.textContent = open ? "已取号，请按时到厅签到 " : `${view.state_label_zh} `;
    $("#result-code").textContent = `${view.code.slice(0, 4)} ${view.code.slice(4)}`;
    $("#result-qr").src = view.qr_path;
    $("#result-qr").hidden = !open;
    $("#result-what").textContent = view.item_name_zh
      ? `${view.item_name_zh}（${view.category_name_zh}）`
      : view.category_name_zh;
    $("#result-state").textContent = view.ticket_number ? `${view.state_label_zh}：${view.ticket_number}` : view.state_label_zh;
    $("#result-ahead").textContent = open && view.ahead !== null
      ? `${view.ahead}人` + (view.expected_at ? `（取号时预计${timeOf(view.expected_at)}前后轮到）` : "")
      : "—";
    $("#result-checkin").textContent = `${timeOf(view.check_in_from)}–${timeOf(view.check_in_until)} 到取号机签到`;
    $("#result-how").hidden = !open;
    $("#result-rules").textContent =
      `近${CONFIG.no_show_days}天内${CONFIG.no_show_limit}次取号未签到，${CONFIG.ban_days}天内不能远程取号。`;
    $("#cancel").hidden = !open;
    $("#track-link").hidden = !view.track_path;
    if (view.track_path) $("#track-link").setAttribute("href", view.track_path);
    hideError("result-error");
    history.replaceState(null, "", `#code=${view.code}`);
    clearTimeout(join.refresh);
    if (open) join.refresh = setTimeout(() => reload(view.code), REFRESH_MS);
  }

  async function reload(code) {
    const answer = await api("GET", `${CONFIG.appointment_path}/${code}`);
    if (answer.status === 200 && join.shown && join.shown.code === code) show(answer.body);
    else if (join.shown && join.shown.code === code) join.refresh = setTimeout(() => reload(code), REFRESH_MS);
  }

  async function cancel() {
    const view = join.shown;
    if (!view || !window.confirm("确定取消这次远程取号吗？排队位置将不再保留。")) return;
    const answer = await api("POST", `${CONFIG.appointment_path}/${view.code}/cancel`);
    if (answer.status === 200) show(answer.body);
    else showError("result-error", errorText(answer));
  }

  function again() {
    join.shown = null;
    clearTimeout(join.refresh);
    history.replaceState(null, "", location.pathname);
    $("#result").hidden = true;
    $("#form").hidden = false;
    loadStatus();
  }



  async function start() {
    $("#address").textContent = CONFIG.address;
    for (const link of ["#book-link", "#book-link-closed"]) $(link).setAttribute("href", CONFIG.book_path);
    if (!CONFIG.enabled) {
      $("#closed").hidden = false;
      $("#form").hidden = true;
      document.body.classList.add("ready");
      return;
    }
    fillChoices();
    $("#take").addEventListener("click", take);
    $("#cancel").addEventListener("click", cancel);
    $("#again").addEventListener("click", again);
    const wanted = /^#code=([A-Za-z0-9]{8})$/.exec(location.hash);
    const code = wanted ? wanted[1] : stored(MINE_KEY);
    if (code) {
      const answer = await api("GET", `${CONFIG.appointment_path}/${code}`);
      // a place of today still open, or checked in today (its tracking page): an older one is not shown again
      const view = answer.body;
      if (answer.status === 200 && view.kind === "remote" && (view.state === "booked" || view.track_path)) show(view);
    }
    await loadStatus();
    document.body.classList.add("ready");
  }

  start();
})();
