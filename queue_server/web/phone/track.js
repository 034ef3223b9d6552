/* 便民 Bianmin: a ticket's tracking page on the citizen's phone.
 *
 * - The page follows the hall's board websocket for its ticket's category (/ws/halls/{hall}/board?category=X:
 *   the server sends only the messages that can move such a ticket, topics.py) and, on each message that can
 *   change this ticket (its own number, its category, a window serving its category, a snapshot or the
 *   day's close), re-reads the ticket's public status over HTTP: the server stays the one place that
 *   knows the queue, and the page only shows what GET /api/v1/halls/{hall}/tickets/{token} says. A ticket
 *   passed on to another category follows that one from then on.
 *   Reads are coalesced (at most one in flight, one every MIN_GAP_MS), and repeated every
 *   REFRESH_MS and when the phone wakes the page, because phones suspend background pages.
 * - A call of this number shows "轮到您了 — 请到 n 号窗口办理" over everything, vibrates, and beeps
 *   when the citizen has allowed sound (browsers play sound only after a tap on the page). Each call
 *   (and each recall) alerts once.
 * - With NEAR or fewer ahead, a banner says so (and the phone vibrates once).
 * - A finished ticket asks for its 好差评 rating, once. An unknown or expired ticket (404) says so and
 *   stops following the hall.
 * window.bianminPhone exposes the page's state for tests.
 */
"use strict";

(() => {
  const { CONFIG, P, $, el, api, errorText, waitText } = window.Phone;
  const MIN_GAP_MS = 500;
  const REFRESH_MS = 60_000;
  const PING_MS = 25_000;
  const SILENT_MS = 70_000;
  const WAITING = new Set(["waiting", "transferred"]);
  const HINTS = {
    waiting: ["请留意叫号，叫到您的号码时本页会提醒您", "We will alert you on this page when you are called"],
    transferred: ["您的号已转至其他窗口，请继续等候", "Your ticket was passed on to another window: keep waiting"],
    called: ["请尽快前往窗口办理", "Please go to the window now"],
    serving: ["正在为您办理", "Being served"],
    finished: ["已办结，感谢您的耐心", "Finished — thank you"],
    no_show: ["您已过号，请到取号机重新排队", "Missed your call? Re-queue at the kiosk"],
    expired: ["号票已过期", "This ticket has expired"],
  };

  const page = {
    status: null,
    gone: false,
    online: false,
    seq: null,
    reads: 0,
    alerts: [], // {kind: "turn" | "near", number, window, at}
    vibrations: [],
    beeps: 0,
    soundOn: false,
    rating: null, // the ticket's rating state once finished
  };
  window.bianminPhone = page;

  // ---- the ticket's status ------------------------------------------------------------------------

  let reading = false;
  let readAgain = false;
  let lastRead = 0;
  let readTimer = null;

  function refresh() {
    if (page.gone) return;
    if (reading) {
      readAgain = true;
      return;
    }
    if (readTimer !== null) return;
    const wait = Math.max(0, lastRead + MIN_GAP_MS - Date.now());
    readTimer = setTimeout(() => {
      readTimer = null;
      readStatus();
    }, wait);
  }

  async function readStatus() {
    reading = true;
    lastRead = Date.now();
    page.reads += 1;
    const answer = await api("GET", CONFIG.status_path);
    reading = false;
    if (answer.status === 200) apply(answer.body);
    else if (answer.status === 404) becomeGone();
    else if (answer.status === 429) setTimeout(refresh, (answer.retryAfter || 5) * 1000);
    if (readAgain) {
      readAgain = false;
      refresh();
    }
  }

  function servingWindows(category) {
    return CONFIG.windows.filter((w) => w.categories.includes(category));
  }

  function windowLabel(number, name) {
    return name ? `${number}号窗口（${name}）` : `${number}号窗口`;
  }

  function apply(status) {
    const before = page.status;
    page.status = status;
    render(status);
    follow(status.category);
    if (status.state === "called" && status.window !== null) {
      turnAlert(status.number, status.window, status.window_name_zh, status.called_at);
    } else if (before && before.state === "called") {
      $("#turn").hidden = true;
    }
    const near = WAITING.has(status.state) && status.ahead !== null && status.ahead <= CONFIG.near;
    $("#near").hidden = !near;
    if (near) {
      $("#near-count").textContent = String(status.ahead);
      if (!page.alerts.some((a) => a.kind === "near")) {
        page.alerts.push({ kind: "near", number: status.number, ahead: status.ahead, at: Date.now() });
        vibrate([300, 150, 300]);
      }
    }
    if (status.state === "finished" && page.rating === null) readRating();
  }

  // The estimate as the server gives it: its 90% range in whole minutes, said to be rough (a note under the
  // figure: at the figure's size the three words took three lines of a phone's half-width tile) when it is.
  function estimateNodes(status) {
    const low = status.estimated_wait_low_s;
    const high = status.estimated_wait_high_s;
    const ranged = status.estimated_wait_s !== null && low !== null && high !== null && high >= 60;
    const text = ranged
      ? `约${Math.floor(low / 60)}–${Math.max(1, Math.ceil(high / 60))}分钟`
      : waitText(status.estimated_wait_s);
    const rough = status.estimate_rough && status.estimated_wait_s !== null;
    const note = el("span", { class: "note" }, "粗略估计 ", el("span", { class: "en", text: "rough" }));
    return rough ? [text, note] : [text];
  }

  function render(status) {
    document.body.dataset.state = status.state;
    $("#number").textContent = status.number;
    $("#what").textContent = status.item_name_zh || status.category_name_zh;
    const stateNode = $("#state");
    stateNode.dataset.state = status.state;
    stateNode.replaceChildren(el("b", { text: status.state_label_zh }), el("span", { class: "en", text: ` ${status.state_label_en}` }));
    const hint = HINTS[status.state] || ["", ""];
    $("#hint").replaceChildren(hint[0], el("span", { class: "en", text: ` ${hint[1]}` }));
    const waiting = WAITING.has(status.state);
    $("#facts").hidden = !waiting;
    $("#ahead").textContent = waiting && status.ahead !== null ? `${status.ahead}人` : "—";
    $("#wait").replaceChildren(...(waiting ? estimateNodes(status) : ["—"]));
    const windows = $("#windows");
    if (status.window !== null && (status.state === "called" || status.state === "serving")) {
      windows.textContent = `请到 ${windowLabel(status.window, status.window_name_zh)}`;
    } else if (waiting) {
      const serving = servingWindows(status.category).map((w) => `${w.number}号`);
      windows.textContent = serving.length ? `办理窗口：${serving.join("、")}窗口` : "";
      if (status.estimated_wait_s === null) windows.textContent += "（窗口暂未开放）";
    } else {
      windows.textContent = "";
    }
  }

  function becomeGone() {
    page.gone = true;
    document.body.dataset.state = "gone";
    for (const id of ["ticket", "near", "rate", "materials", "sound"]) $(`#${id}`).hidden = true;
    $("#turn").hidden = true;
    $("#gone").hidden = false;
    if (link) link.close();
    setConnection("gone");
  }

  // ---- alerts -------------------------------------------------------------------------------------

  function vibrate(pattern) {
    page.vibrations.push(pattern);
    if (navigator.vibrate) {
      try {
        navigator.vibrate(pattern);
      } catch (_error) {
        // some browsers refuse vibration without a tap first: the screen alert is still there
      }
    }
  }

  let audio = null;

  function enableSound() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (audio === null) audio = new Context();
    audio.resume().then(() => {
      page.soundOn = audio.state === "running";
      $("#sound").classList.toggle("on", page.soundOn);
      $("#sound .sound-label").textContent = page.soundOn ? "声音与振动提醒已开启" : "点此开启声音与振动提醒";
      $("#sound .en").textContent = page.soundOn ? "Sound and vibration on" : "Tap to turn on sound and vibration";
      if (page.soundOn) beep(1);
    });
  }

  function beep(times) {
    if (!page.soundOn || audio === null) return;
    page.beeps += 1;
    const start = audio.currentTime + 0.05;
    for (let i = 0; i < times; i++) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, start + i * 0.45);
      gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.45 + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.45 + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + i * 0.45);
      tone.stop(start + i * 0.45 + 0.42);
    }
  }

  let alertedCall = null; // the time of the call last alerted (a recall is a new call)

  function turnAlert(number, windowNumber, windowName, at) {
    const key = at ? Date.parse(at) : null;
    if (key !== null && key === alertedCall) return;
    alertedCall = key;
    page.alerts.push({ kind: "turn", number, window: windowNumber, at: Date.now() });
    $("#turn-number").textContent = number;
    $("#turn-window").textContent = `${windowNumber}号窗口`;
    $("#turn-en").textContent = `It's your turn — please go to window ${windowNumber}${windowName ? ` (${windowName})` : ""}`;
    $("#turn").hidden = false;
    $("#near").hidden = true;
    vibrate([600, 200, 600, 200, 900]);
    beep(4);
  }

  // ---- the hall's websocket -----------------------------------------------------------------------

  let link = null; // the shared live link (page.js): since, back-off with jitter, pings

  function setConnection(state) {
    const node = $("#conn");
    node.dataset.state = state;
    const labels = { live: "实时", connecting: "连接中", offline: "离线，重连中", gone: "已结束" };
    node.querySelector(".label").textContent = labels[state] || state;
  }

  function relevant(message) {
    const status = page.status;
    if (message.type === "snapshot" || message.type === "day_closed") return true;
    if (status === null) return message.type !== "pong";
    const serves = (n) => servingWindows(status.category).some((w) => w.number === n);
    if (message.type === "call" || message.type === "ticket") {
      return (
        message.ticket.number === status.number || message.ticket.category === status.category || serves(message.window)
      );
    }
    if (message.type === "window") return serves(message.window.number);
    return false; // pong, ratings, appointments: nothing about this ticket
  }

  function onMessage(message) {
    if (typeof message.seq === "number" && message.type !== "pong") page.seq = message.seq;
    if (message.type === "call" && page.status && message.ticket.number === page.status.number) {
      // Alert at once, before the re-read: this is the moment the board says it aloud.
      turnAlert(message.ticket.number, message.window, message.window_name_zh, message.at);
    }
    if (relevant(message)) refresh();
  }

  let followed = CONFIG.category; // the category whose messages the server sends this page

  /** Follow the ticket's category again if it changed (a transfer to another category's window). */
  function follow(category) {
    if (!category || category === followed || page.gone) return;
    followed = category;
    if (link) link.close();
    connect();
  }

  function connect() {
    if (page.gone) return;
    setConnection("connecting");
    link = P.live(`${CONFIG.ws_path}?category=${encodeURIComponent(followed)}`, {
      firstMs: 1000,
      maxMs: 10_000,
      pingMs: PING_MS,
      silentMs: SILENT_MS,
      onMessage,
      onOpen: refresh,
      onStatus: (online) => {
        page.online = online;
        if (!page.gone) setConnection(online ? "live" : "offline");
      },
    });
    page.link = link;
  }

  setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    refresh();
  });

  // ---- 好差评 -------------------------------------------------------------------------------------

  const choice = { level: null, reasons: new Set() };

  async function readRating() {
    page.rating = { loading: true };
    const answer = await api("GET", CONFIG.rating_path);
    if (answer.status !== 200) {
      page.rating = null;
      if (answer.status === 404) becomeGone();
      return;
    }
    page.rating = answer.body;
    if (answer.body.rating) showThanks(answer.body.rating, false);
    else if (answer.body.can_rate) $("#rate").hidden = false;
  }

  function buildRating() {
    $("#levels").append(...P.ratingLevels(CONFIG.levels, CONFIG.bad_levels, chooseLevel));
    const reasons = $("#reasons");
    for (const [code, zh, en] of CONFIG.reasons) {
      const box = el("input", { type: "checkbox", value: code, onchange: (e) => toggleReason(code, e.target.checked) });
      reasons.append(el("label", { class: "reason" }, box, el("span", { text: zh }), el("span", { class: "en", text: en })));
    }
    $("#comment").addEventListener("input", validate);
    $("#rate-submit").addEventListener("click", submitRating);
  }

  function chooseLevel(code) {
    choice.level = code;
    for (const button of document.querySelectorAll("#levels .level")) {
      button.setAttribute("aria-checked", String(button.dataset.level === code));
    }
    $("#bad").hidden = !CONFIG.bad_levels.includes(code);
    validate();
  }

  function toggleReason(code, on) {
    if (on) choice.reasons.add(code);
    else choice.reasons.delete(code);
    validate();
  }

  function validate() {
    const ok = P.ratingComplete(choice.level, choice.reasons, $("#comment").value, CONFIG.bad_levels);
    $("#rate-submit").disabled = !ok;
    return ok;
  }

  async function submitRating() {
    if (!validate()) return;
    const bad = CONFIG.bad_levels.includes(choice.level);
    const body = { level: choice.level };
    const comment = $("#comment").value.trim();
    if (bad) {
      body.reasons = CONFIG.reasons.map((r) => r[0]).filter((code) => choice.reasons.has(code));
      if (comment) body.comment = comment;
      const contact = $("#contact").value.trim();
      if (contact) body.contact_phone = contact;
    }
    $("#rate-submit").disabled = true;
    const answer = await api("POST", CONFIG.rating_path, body);
    const error = $("#rate-error");
    if (answer.status === 201) {
      error.hidden = true;
      showThanks(answer.body, false);
    } else if (answer.status === 409) {
      error.hidden = false;
      error.textContent = errorText(answer);
      const again = await api("GET", CONFIG.rating_path);
      if (again.status === 200 && again.body.rating) showThanks(again.body.rating, true);
    } else {
      error.hidden = false;
      error.textContent = errorText(answer);
      validate();
    }
  }

  function showThanks(rating, already) {
    page.rating = { ...(page.rating || {}), rating };
    $("#rate").hidden = true;
    $("#thanks").hidden = false;
    $("#thanks-level").textContent = rating.level_zh;
    $("#thanks-note").textContent = already
      ? "该号已评价，每张号票只能评价一次。"
      : CONFIG.bad_levels.includes(rating.level)
        ? `我们将在${CONFIG.rectify_working_days}个工作日内核实整改并回访。`
        : "您的评价将帮助我们改进服务。";
  }

  // ---- the page -----------------------------------------------------------------------------------

  function buildMaterials() {
    const item = CONFIG.item;
    if (item === null) {
      $("#item-name").hidden = true;
      $("#no-item").hidden = false;
      return;
    }
    $("#item-name").textContent = item.name_zh;
    const list = $("#checklist");
    for (const m of item.materials) {
      const copies = m.copies > 1 ? ` ${m.copies}份` : "";
      list.append(
        el(
          "li",
          {},
          el("label", {}, el("input", { type: "checkbox" }), el("span", { class: "m-name", text: m.name })),
          el("span", { class: "m-form", text: `${m.form_zh}${copies}` }),
          m.notes ? el("div", { class: "m-notes", text: m.notes }) : null,
        ),
      );
    }
  }

  $("#turn-ok").addEventListener("click", () => {
    $("#turn").hidden = true;
  });
  $("#sound").addEventListener("click", enableSound);
  buildMaterials();
  buildRating();
  connect();
})();
