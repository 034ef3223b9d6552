/* 便民 Bianmin web boards: the hall board (叫号大屏) and the window board (窗口屏).
 *
 * Plain JavaScript, no build step, no CDN: the page embeds its configuration as JSON
 * (#bianmin-config, written by queue_server/api/routes_web.py) and this script does the rest.
 *
 * Websocket rules (/ws/halls/{hall}/board):
 * - The first connection asks for a snapshot; every reconnection sends `?since=<last seq seen>` and
 *   gets exactly the events it missed (or a fresh snapshot when the server's log is too far ahead,
 *   or was reset). An event is applied only when its seq is beyond the last one seen, so nothing
 *   delivered twice is applied twice.
 * - A ping every few seconds; a board that hears nothing from the server for `offline_s` seconds
 *   (default 6) shows 离线/Offline and drops the connection; it reconnects with a back-off
 *   (0.5 s, doubling, at most `retry_s`, default 10 s, with some jitter so a hall's boards do not
 *   all knock at once). Before each attempt it reads the server's clock (/api/v1/halls/{h}/time).
 *
 * Announcement rules (语音叫号):
 * - A call is announced once: when its seq is first seen. A snapshot never announces anything,
 *   so a reloaded page or a resync never replays old calls. A recall is a new call event (new
 *   seq), so it is announced again.
 * - Calls missed while offline and delivered on resume are shown, and announced only when the call
 *   is less than 60 s old by the server's clock; older ones are shown, not said (the citizen has
 *   long seen the number, or gone to the window). The same limit drops a call that has waited in
 *   the queue for 60 s (e.g. behind the "click to enable sound" overlay).
 * - Announcements are queued and never overlap: each plays `audio_url?repeat=N` (the chime, then
 *   the call said N times) to its end, then a short gap, then the next.
 * - Where the browser blocks audio without a user gesture, a one-time overlay "点击开启声音 /
 *   Click to enable sound" appears; one click unlocks sound for the page.
 * - The hall board speaks every call (`?sound=0` silences it); a window board speaks nothing unless
 *   opened with `?sound=1`, and then only its own window's calls.
 *
 * For tests and diagnostics, `window.bianminBoard` exposes the model, the announcement log
 * (`announced`: every call accepted for announcement, in order), what was played (`spoken`), and
 * calls shown but not said (`skipped`).
 */
(function () {
  "use strict";

  const P = window.BianminPage; // the shared page module: live link, server clock, DOM helpers
  const CONFIG = P.config("bianmin-config");
  const params = new URLSearchParams(location.search);

  function numberParam(name, fallback, min, max) {
    const value = Number(params.get(name));
    return params.has(name) && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
  }

  const OFFLINE_MS = numberParam("offline_s", 6, 1, 300) * 1000;
  const PING_MS = Math.min(3000, OFFLINE_MS / 3); // a live server is heard from well within OFFLINE_MS
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = numberParam("retry_s", 10, 0.5, 300) * 1000;
  const TIME_TIMEOUT_MS = 3000;
  const ANNOUNCE_WITHIN_MS = 60000; // a call older than this is shown, not said
  const GAP_MS = 600; // silence between two announcements
  const PLAY_TIMEOUT_MS = 45000; // an announcement that has not ended by then is cut short
  const RECENT_MAX = 12; // rows made; the board shows as many as fit whole (board_layout.js fitList)
  const NEXT_SHOWN = 5;
  const FLASH_MS = 8000;
  const PAGE_MS = numberParam("page_s", CONFIG.page_seconds || 8, 0.5, 600) * 1000; // windows and queues
  const SILENT_WAV = silentWavUrl();

  const isHall = CONFIG.kind === "hall";
  const ownWindow = CONFIG.window;
  const soundWanted = params.has("sound") ? params.get("sound") === "1" : CONFIG.sound;
  const windowConfig = new Map(CONFIG.windows.map((w) => [w.number, w]));
  const categoryConfig = new Map(CONFIG.categories.map((c) => [c.code, c]));

  // ---- the model: what the board knows, kept in seq order (as queue_server/board_model.py) ----

  const model = {
    seq: null, // the last seq applied; null before the first snapshot
    noticeZh: "",
    noticeEn: "",
    supervisionPhone: CONFIG.supervision_phone,
    windows: new Map(), // number -> WindowView
    queues: new Map(), // category code -> QueueSummary
    recent: [], // newest first: {number, window, at}
    latest: null, // {number, window, nameZh, nameEn, at, recall, seq}
    flashes: new Map(), // "number@window" -> {start, until, recall}: every call and recall flashes, not only the newest
  };
  const LEAVES_WINDOW = new Set(["finished", "no_show", "transferred", "returned"]);

  function applySnapshot(message) {
    const board = message.board;
    if (model.seq !== null && message.seq < model.seq) {
      // The server's event log was reset (a new database): its seqs start again.
      announcer.forgetSeqs();
    }
    model.noticeZh = board.notice_zh;
    model.noticeEn = board.notice_en;
    model.supervisionPhone = board.supervision_phone;
    model.windows = new Map(board.windows.map((w) => [w.number, w]));
    setQueues(board.queues);
    model.recent = board.recent_calls.map((c) => ({ number: c.number, window: c.window, at: c.at }));
    const newest = model.recent[0];
    const keepFlash = model.latest && newest && model.latest.number === newest.number && model.latest.window === newest.window;
    model.latest = newest ? latestOf(newest.number, newest.window, newest.at, 0, null) : null;
    if (keepFlash) model.latest.flashUntil = flashUntil;
    model.seq = message.seq;
  }

  function latestOf(number, windowNumber, at, recall, seq) {
    const w = windowConfig.get(windowNumber) || {};
    return { number, window: windowNumber, nameZh: w.name_zh || "", nameEn: w.name_en || "", at, recall, seq };
  }

  function applyCall(message) {
    const number = message.ticket.number;
    const w = model.windows.get(message.window);
    if (w) model.windows.set(message.window, { ...w, current_number: number, current_state: "called" });
    model.recent.unshift({ number, window: message.window, at: message.at });
    model.recent.length = Math.min(model.recent.length, 20);
    model.latest = {
      number,
      window: message.window,
      nameZh: message.window_name_zh,
      nameEn: message.window_name_en,
      at: message.at,
      recall: message.recall,
      seq: message.seq,
    };
    setQueues(message.queues);
  }

  function applyTicket(message) {
    const number = message.ticket.number;
    for (const [key, w] of model.windows) {
      if (w.current_number !== number) continue;
      if (message.event === "started" && key === message.window) {
        model.windows.set(key, { ...w, current_state: "serving" });
      } else if (LEAVES_WINDOW.has(message.event)) {
        model.windows.set(key, { ...w, current_number: null, current_state: null });
      }
    }
    setQueues(message.queues);
  }

  function applyDayClosed(message) {
    for (const [key, w] of model.windows) {
      if (w.current_state !== "serving") {
        model.windows.set(key, {
          ...w, state: "closed", post: null, clerk_name: null, current_number: null, current_state: null, paused_reason: null,
        });
      }
    }
    model.recent = [];
    model.latest = null;
    model.flashes.clear();
    setQueues(message.queues);
  }

  function setQueues(queues) {
    model.queues = new Map(queues.map((q) => [q.category, q]));
  }

  /** Apply one server message; calls seen for the first time go to the announcer. */
  function apply(message) {
    if (message.type === "pong") return false;
    if (message.type === "snapshot") {
      applySnapshot(message);
      return true;
    }
    if (model.seq === null || typeof message.seq !== "number" || message.seq <= model.seq) return false;
    switch (message.type) {
      case "call":
        applyCall(message);
        break;
      case "ticket":
        applyTicket(message);
        break;
      case "window":
        model.windows.set(message.window.number, message.window);
        setQueues(message.queues);
        break;
      case "day_closed":
        applyDayClosed(message);
        break;
      default:
        return false; // a message type this page does not know: ignore it, keep the seq
    }
    model.seq = message.seq;
    if (message.type === "call") {
      flashUntil = Date.now() + FLASH_MS;
      const key = `${message.ticket.number}@${message.window}`;
      model.flashes.set(key, { start: Date.now(), until: flashUntil, recall: message.recall });
      if (model.latest) model.latest.flashUntil = flashUntil;
      announcer.consider(message);
    }
    return true;
  }

  // ---- the server's clock -------------------------------------------------------------------

  let flashUntil = 0;
  P.clock.sample(CONFIG.server_now);

  function serverNow() {
    return P.clock.now();
  }

  /** Read the server's clock (the shared clock takes the middle of the round trip). */
  async function readServerTime() {
    const answer = await P.request("GET", CONFIG.time_path, { timeoutMs: TIME_TIMEOUT_MS });
    return answer.status === 200;
  }

  // ---- announcements ------------------------------------------------------------------------

  const announcer = {
    announced: [], // every call accepted for announcement, in order (exposed for tests)
    spoken: [], // what became of each: played, error, timeout, muted, stale
    skipped: [], // calls shown but not said, and why
    queue: [],
    seen: new Set(),
    busy: false,
    blocked: false, // the browser refused to play without a user gesture

    forgetSeqs() {
      this.seen.clear();
    },

    consider(call) {
      const entry = {
        seq: call.seq, number: call.ticket.number, window: call.window, recall: call.recall, at: call.at,
        text_zh: call.announcement.text_zh, text_en: call.announcement.text_en,
      };
      if (!isHall && call.window !== ownWindow) return;
      if (this.seen.has(call.seq)) return;
      this.seen.add(call.seq);
      const age = serverNow() - Date.parse(call.at);
      if (age > ANNOUNCE_WITHIN_MS) {
        this.skipped.push({ ...entry, reason: "old", age_s: Math.round(age / 1000) });
        return;
      }
      const url = call.announcement.audio_url;
      const repeat = Math.max(1, Math.min(5, call.announcement.repeat || 1));
      entry.audio = url ? `${url}${url.includes("?") ? "&" : "?"}repeat=${repeat}` : null;
      this.announced.push(entry);
      this.queue.push(entry);
      this.pump();
    },

    async pump() {
      if (this.busy) return;
      this.busy = true;
      try {
        while (this.queue.length && !this.blocked) {
          const entry = this.queue[0];
          const age = serverNow() - Date.parse(entry.at);
          const started = performance.now();
          let outcome;
          if (!soundWanted) outcome = "muted";
          else if (age > ANNOUNCE_WITHIN_MS) outcome = "stale";
          else if (!entry.audio) outcome = "no-audio";
          else outcome = await play(entry.audio);
          if (outcome === "blocked") {
            this.blocked = true;
            showSoundOverlay();
            break; // the entry stays first in the queue until sound is enabled
          }
          this.queue.shift();
          this.spoken.push({
            seq: entry.seq, number: entry.number, window: entry.window, outcome, started, ended: performance.now(),
          });
          if (outcome === "played") await sleep(GAP_MS);
        }
      } finally {
        this.busy = false;
      }
    },

    unblock() {
      this.blocked = false;
      this.pump();
    },
  };

  /** Play one announcement to its end; resolves to played, error, timeout or blocked. */
  function play(url) {
    return new Promise((resolve) => {
      const audio = new Audio(url);
      let done = false;
      const finish = (outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (outcome !== "played") audio.pause();
        audio.removeAttribute("src");
        resolve(outcome);
      };
      const timer = setTimeout(() => finish("timeout"), PLAY_TIMEOUT_MS);
      audio.addEventListener("ended", () => finish("played"));
      audio.addEventListener("error", () => finish("error"));
      const started = audio.play();
      if (started && started.catch) {
        started.catch((error) => finish(error && error.name === "NotAllowedError" ? "blocked" : "error"));
      }
    });
  }

  function showSoundOverlay() {
    document.getElementById("sound-overlay").hidden = false;
  }

  function enableSound() {
    document.getElementById("sound-overlay").hidden = true;
    // Playing something inside the click is what unlocks audio for the page.
    const unlock = new Audio(SILENT_WAV);
    const done = () => announcer.unblock();
    const started = unlock.play();
    if (started && started.then) started.then(done, done);
    else done();
  }

  /** Ask the browser once, at start, whether it lets the page play sound without a click. */
  function probeAutoplay() {
    if (!soundWanted) return;
    const started = new Audio(SILENT_WAV).play();
    if (started && started.catch) {
      started.catch((error) => {
        if (error && error.name === "NotAllowedError") {
          announcer.blocked = true;
          showSoundOverlay();
        }
      });
    }
  }

  function silentWavUrl() {
    // 0.05 s of silence, 8 kHz mono 8-bit: a 44-byte header and 400 samples of 128.
    const samples = 400;
    const bytes = new Uint8Array(44 + samples);
    const view = new DataView(bytes.buffer);
    const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
    text(0, "RIFF");
    view.setUint32(4, 36 + samples, true);
    text(8, "WAVEfmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint32(24, 8000, true);
    view.setUint32(28, 8000, true);
    view.setUint16(32, 1, true);
    view.setUint16(34, 8, true);
    text(36, "data");
    view.setUint32(40, samples, true);
    bytes.fill(128, 44);
    let binary = "";
    bytes.forEach((b) => (binary += String.fromCharCode(b)));
    return `data:audio/wav;base64,${btoa(binary)}`;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // ---- the connection -----------------------------------------------------------------------

  let link = null; // the shared live link (page.js): since, back-off with jitter, pings, silence

  function connect() {
    link = P.live(CONFIG.ws_path, {
      since: () => model.seq,
      before: readServerTime,
      firstMs: RETRY_FIRST_MS,
      maxMs: RETRY_MAX_MS,
      pingMs: PING_MS,
      silentMs: OFFLINE_MS,
      onMessage: (message) => {
        if (apply(message)) scheduleRender();
        updateOnline();
      },
    });
  }

  function updateOnline() {
    // Open but silent (a half-open connection, a sleeping server): the link drops it and starts again.
    const offline = !link || Date.now() - link.lastHeard > OFFLINE_MS;
    document.body.classList.toggle("offline", offline);
  }

  // ---- rendering ----------------------------------------------------------------------------

  let renderPending = false;
  let flashedSeq = null;

  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      render();
    });
  }

  function el(tag, className, text) {
    return P.el(tag, { class: className || null }, text ?? null);
  }

  function setText(id, text) {
    const node = document.getElementById(id);
    if (node && node.textContent !== String(text)) node.textContent = String(text);
  }

  function bilingual(zh, en, className) {
    const span = el("span", className);
    span.append(el("span", "zh", zh), " ", el("span", "en", en));
    return span;
  }

  function minutes(seconds) {
    return Math.max(1, Math.round(seconds / 60));
  }

  function render() {
    if (isHall) renderHall();
    else renderWindow();
    renderTicker();
    document.body.classList.toggle("ready", model.seq !== null);
  }

  function renderHall() {
    const latest = model.latest;
    const latestPanel = document.getElementById("latest");
    if (latest) {
      setText("latest-number", latest.number);
      setText("latest-window", latest.window);
      setText("latest-text-zh", `请 ${latest.number} 号到 ${latest.window} 号窗口办理${latest.nameZh ? `（${latest.nameZh}）` : ""}`);
      setText("latest-text-en", `Number ${latest.number}, please go to window ${latest.window}${latest.nameEn ? ` (${latest.nameEn})` : ""}`);
      latestPanel.dataset.number = latest.number;
      latestPanel.dataset.window = String(latest.window);
      latestPanel.classList.toggle("recall", latest.recall > 0);
    } else {
      setText("latest-number", "—");
      setText("latest-window", "—");
      setText("latest-text-zh", "请留意叫号");
      setText("latest-text-en", "Please wait for your number to be called");
      delete latestPanel.dataset.number;
      delete latestPanel.dataset.window;
      latestPanel.classList.remove("recall");
    }
    const flashing = Boolean(latest && latest.flashUntil && latest.flashUntil > Date.now());
    if (flashing && latest.seq !== flashedSeq) {
      // A new call while the last one still flashes: restart the animation.
      latestPanel.classList.remove("flash");
      void latestPanel.offsetWidth;
      flashedSeq = latest.seq;
    }
    latestPanel.classList.toggle("flash", flashing);

    const recent = document.getElementById("recent");
    const seen = new Set();
    const rows = [];
    for (const call of model.recent) {
      const key = `${call.number}@${call.window}`;
      if (seen.has(key)) continue; // a recall moves the call to the top, it is not listed twice
      seen.add(key);
      const row = el("li", rows.length === 0 ? "recent-call newest" : "recent-call");
      row.dataset.number = call.number;
      row.dataset.window = String(call.window);
      const num = el("span", "num");
      num.append(el("span", "n", call.number));
      const flash = flashOf(key);
      if (flash) {
        // Every call and recall flashes its own row, so two calls in a row are both seen, and a recall of
        // an older number shows as well as the newest call.
        row.classList.add("flash");
        row.style.setProperty("--flash-delay", `-${Date.now() - flash.start}ms`); // a re-render does not restart it
        if (flash.recall > 0) num.append(bilingual("重呼", "Recall", "recall-mark"));
      }
      row.append(num);
      const where = el("span", "win");
      where.append(el("span", "n", call.window), bilingual("号窗口", "Window", "unit"));
      row.append(where);
      rows.push(row);
      if (rows.length >= RECENT_MAX) break;
    }
    if (!rows.length) rows.push(el("li", "empty", "暂无叫号 · No calls yet"));
    recent.replaceChildren(...rows);
    layout.fitList(recent, ".recent-call"); // whole rows only

    pagers.windows.show(CONFIG.windows.map((config) => windowCard(config, model.windows.get(config.number))));
    pagers.queues.show(CONFIG.categories.map((c) => queueChip(c, model.queues.get(c.code))));
  }

  /** The flash of a call (number@window) while it lasts, or null. */
  function flashOf(key) {
    const flash = model.flashes.get(key);
    return flash && flash.until > Date.now() ? flash : null;
  }

  /** After a page of cards is shown: English (and Chinese) names wrap, then shrink to fit; never cut with "…". */
  function fitNames(grid) {
    const floor = 0.82 * layout.rem();
    grid.querySelectorAll(".card-name, .card-name-en, .queue-name-en").forEach((node) => layout.fitText(node, floor));
  }

  function windowCard(config, live) {
    const state = live ? live.state : "closed";
    const card = el("div", `window-card state-${state}${live && live.current_state ? ` current-${live.current_state}` : ""}`);
    card.dataset.window = String(config.number);
    const flash = live && live.current_number ? flashOf(`${live.current_number}@${config.number}`) : null;
    if (flash) {
      card.classList.add("flash");
      card.style.setProperty("--flash-delay", `-${Date.now() - flash.start}ms`);
    }
    const head = el("div", "card-head");
    head.append(el("span", "card-no", config.number), el("span", "card-name zh", config.name_zh));
    card.append(head, el("div", "card-name-en en", config.name_en));
    const current = el("div", "card-current", live && live.current_number ? live.current_number : "—");
    current.dataset.role = "current";
    card.append(current);
    let label;
    if (state === "closed") label = bilingual("未开放", "Closed");
    else if (state === "paused") label = bilingual("暂停服务", "Paused");
    else if (live.current_state === "serving") label = bilingual("办理中", "Serving");
    else if (live.current_state === "called") label = bilingual("叫号中", "Calling");
    else label = bilingual("空闲", "Available");
    label.classList.add("card-state");
    card.append(label);
    return card;
  }

  function queueChip(category, summary) {
    const chip = el("div", "queue-chip");
    chip.dataset.category = category.code;
    chip.style.setProperty("--category", category.colour || "#607D8B");
    const name = el("div", "queue-name");
    name.append(el("span", "prefix", category.prefix), el("span", "zh", category.name_zh));
    chip.append(name, el("div", "queue-name-en en", category.name_en));
    const waiting = summary ? summary.waiting : 0;
    const count = el("div", "queue-count");
    count.append(el("span", "n", waiting), bilingual("人等候", "waiting", "unit"));
    count.dataset.waiting = String(waiting);
    chip.append(count);
    let wait;
    if (!summary || summary.wait_s === null) wait = bilingual("暂无窗口", "No window open");
    else if (waiting === 0) wait = bilingual("无需等候", "No wait");
    else wait = bilingual(`约 ${minutes(summary.wait_s)} 分钟`, `~${minutes(summary.wait_s)} min`);
    wait.classList.add("queue-wait");
    chip.append(wait);
    return chip;
  }

  function renderWindow() {
    const config = windowConfig.get(ownWindow);
    const live = model.windows.get(ownWindow);
    setText("window-number", ownWindow);
    setText("window-name-zh", config.name_zh);
    setText("window-name-en", config.name_en);

    const current = document.getElementById("current");
    const number = live && live.current_number;
    setText("current-number", number || "—");
    current.dataset.number = number || "";
    current.classList.toggle("flash", Boolean(number && model.latest && model.latest.window === ownWindow &&
      model.latest.number === number && model.latest.flashUntil > Date.now()));
    if (number && live.current_state === "called") {
      setText("current-state-zh", `请 ${number} 号到本窗口办理`);
      setText("current-state-en", `Number ${number}, please come to this window`);
    } else if (number) {
      setText("current-state-zh", "正在办理");
      setText("current-state-en", "Now serving");
    } else {
      setText("current-state-zh", live && live.state === "open" ? "等待叫号" : "");
      setText("current-state-en", live && live.state === "open" ? "Waiting for the next call" : "");
    }

    setText("clerk-name", live && live.clerk_name ? live.clerk_name : "—");
    const post = live && live.post;
    setText("clerk-post-zh", post ? `${post}岗 · ${post === "A" ? "主岗" : "顶岗"}` : "");
    setText("clerk-post-en", post ? `${post}-post${post === "A" ? " (main)" : " (backup)"}` : "");

    const waitingList = document.getElementById("waiting");
    const items = config.categories.map((code) => {
      const category = categoryConfig.get(code);
      const summary = model.queues.get(code);
      const item = el("li", "waiting-item");
      item.dataset.category = code;
      item.style.setProperty("--category", category.colour || "#607D8B");
      const name = el("span", "name");
      name.append(el("span", "zh", category.name_zh), " ", el("span", "en", category.name_en));
      const count = el("span", "count");
      count.append(el("span", "n", summary ? summary.waiting : 0), bilingual("人", "waiting", "unit"));
      item.append(name, count);
      return item;
    });
    waitingList.replaceChildren(...items);
    if (upcoming.numbers !== null) setText("waiting-total", upcoming.waiting);

    const next = document.getElementById("next");
    const numbers = upcoming.numbers || [];
    next.replaceChildren(
      ...(numbers.length ? numbers.map((n) => el("li", "next-number", n)) : [el("li", "empty", "暂无 · None")]),
    );

    const shade = document.getElementById("window-shade");
    const state = live ? live.state : "closed";
    shade.hidden = state === "open" || model.seq === null;
    shade.className = `window-shade state-${state}`;
    if (state === "paused") {
      setText("shade-zh", "暂停服务");
      setText("shade-en", "Service paused");
      setText("shade-reason", live.paused_reason || "");
    } else if (state === "closed") {
      setText("shade-zh", "本窗口暂未开放");
      setText("shade-en", "This window is closed");
      setText("shade-reason", "");
    }
    if (model.seq !== null && (upcoming.seq === null || upcoming.seq < model.seq)) refreshUpcoming();
  }

  // The window board's next numbers: fetched after each change, at most one request at a time. An event that
  // arrives while a request is out is read again as soon as that one is back (render asks while behind).
  const upcoming = { seq: null, numbers: null, waiting: 0, loading: false };

  async function refreshUpcoming() {
    if (upcoming.loading || !CONFIG.upcoming_path) return;
    upcoming.loading = true;
    const wanted = model.seq;
    let read = false;
    try {
      const response = await fetch(`${CONFIG.upcoming_path}?limit=${NEXT_SHOWN}`, { cache: "no-store" });
      if (response.ok) {
        const body = await response.json();
        upcoming.numbers = body.numbers;
        upcoming.waiting = body.waiting;
        upcoming.seq = Math.max(wanted, body.seq);
        read = true;
      }
    } catch (error) {
      // Offline: the list stays as it was and is fetched again after the next event.
    } finally {
      upcoming.loading = false;
    }
    if (read) scheduleRender(); // shows it, and reads again at once if an event came meanwhile
    else setTimeout(scheduleRender, 5000); // failed: try again a little later
  }

  let tickerText = null;

  function renderTicker() {
    const parts = [];
    if (model.noticeZh) parts.push(model.noticeZh);
    if (model.noticeEn) parts.push(model.noticeEn);
    parts.push(`${CONFIG.name_zh} 咨询电话 Enquiries: ${CONFIG.phone}`);
    parts.push(`监督电话 Supervision phone: ${model.supervisionPhone}`);
    const text = parts.join("　　◆　　");
    if (text === tickerText) return;
    tickerText = text;
    const track = document.getElementById("ticker");
    const copy = () => el("span", "ticker-copy", text);
    track.replaceChildren(copy(), copy()); // two copies: the loop is seamless
    // About 120 px a second, whatever the length of the notice.
    requestAnimationFrame(() => {
      const width = track.firstChild.getBoundingClientRect().width;
      track.style.animationDuration = `${Math.max(10, width / 120)}s`;
    });
  }

  // ---- the clock ----------------------------------------------------------------------------

  const timeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: CONFIG.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const dateZh = new Intl.DateTimeFormat("zh-CN", {
    timeZone: CONFIG.timezone, year: "numeric", month: "long", day: "numeric", weekday: "long",
  });
  const dateEn = new Intl.DateTimeFormat("en-GB", {
    timeZone: CONFIG.timezone, weekday: "short", day: "numeric", month: "short", year: "numeric",
  });

  function renderClock() {
    const now = new Date(serverNow());
    setText("clock-time", timeFormat.format(now));
    setText("clock-date-zh", dateZh.format(now));
    setText("clock-date-en", dateEn.format(now));
  }

  function tick() {
    renderClock();
    updateOnline();
    const flashing = model.latest && model.latest.flashUntil;
    if (flashing && flashing < Date.now()) {
      model.latest.flashUntil = 0;
      scheduleRender();
    }
    for (const [key, flash] of model.flashes) {
      if (flash.until < Date.now()) {
        model.flashes.delete(key);
        scheduleRender();
      }
    }
  }

  // ---- layout: pages of windows and queues, the notice zone (board_layout.js) ----------------

  const layout = window.bianminLayout;
  const pagers = {};
  let notice = null;
  if (isHall) {
    document.body.style.setProperty("--window-rows", String(CONFIG.window_rows || 2));
    for (const name of ["windows", "queues"]) {
      const grid = document.getElementById(name);
      const pager = new layout.Pager(grid.closest(".zone"), grid, document.getElementById(`${name}-pager`), PAGE_MS);
      pager.afterRender = () => fitNames(grid);
      pagers[name] = pager;
    }
    if (CONFIG.notice) notice = new layout.NoticeZone(document.getElementById("notice"), CONFIG.notice, el);
    window.addEventListener("resize", () => {
      scheduleRender();
      if (notice) notice.render();
    });
  }

  // ---- start --------------------------------------------------------------------------------

  window.bianminBoard = {
    config: CONFIG,
    model,
    get link() {
      return link;
    },
    pagers,
    notice,
    get announced() {
      return announcer.announced;
    },
    get spoken() {
      return announcer.spoken;
    },
    get skipped() {
      return announcer.skipped;
    },
    get soundBlocked() {
      return announcer.blocked;
    },
    get offline() {
      return document.body.classList.contains("offline");
    },
    serverNow,
  };

  document.querySelectorAll("[data-bind]").forEach((node) => {
    node.textContent = CONFIG[node.dataset.bind] || "";
  });
  document.getElementById("sound-button").addEventListener("click", enableSound);
  document.title = isHall ? `${CONFIG.name_zh} · 叫号大屏` : `${ownWindow}号窗口 · ${CONFIG.name_zh}`;
  if (!document.querySelector("h1")) {
    // The page's heading for screen readers (the board's own header shows the same on screen).
    const style = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap";
    document.body.prepend(P.el("h1", { style }, document.title));
  }
  render();
  if (notice) notice.render();
  renderClock();
  setInterval(tick, 1000);
  probeAutoplay();
  connect();
})();
