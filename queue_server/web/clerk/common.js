/* 便民 Bianmin — what the clerk console and the manager dashboard share (the manager page loads this
 * file from /console/clerk/common.js too): the session, the API, the live link, formatting, dialogs.
 *
 * The element, fetch, clock, websocket and login helpers are the shared page module's
 * (/web/common/page.js, window.BianminPage); this file adds the console's own API paths, formatting,
 * names, toasts and dialogs.
 *
 * Session: POST /api/v1/auth/login answers a bearer token; it is kept in sessionStorage (per browser
 * tab, gone when the tab closes) and sent as `Authorization: Bearer ...` with every request. The
 * server sets no cookie, so another site cannot make this browser act for the clerk (no CSRF).
 * Any 401 (expired, logged out, deactivated) clears the token and shows the login form again.
 *
 * Live: the pages listen to the hall's public board websocket (/ws/halls/{hall}/board); every message
 * means "something changed", and the page re-reads what it shows (a few times a second at most).
 */
"use strict";

(function () {
  const P = window.BianminPage;
  const CONFIG = P.config("console-config");
  const { el, $ } = P;

  function show(node, visible) {
    node.hidden = !visible;
  }

  /** Bilingual text: <span class="zh">…</span> <span class="en" lang="en">…</span>. */
  function bi(zh, en) {
    return [el("span", { class: "zh" }, zh), " ", el("span", { class: "en", lang: "en" }, en)];
  }

  /** A call to the hall's API (a path relative to CONFIG.api, or absolute): JSON in and out, a Blob
   * with {blob: true}, the Response with {response: true}; errors are P.ApiError. */
  async function api(method, path, body, options) {
    const url = path.startsWith("/") ? path : `${CONFIG.api}/${path}`;
    const raw = Boolean(options && (options.blob || options.response));
    const answer = await P.staffJSON(method, url, body, { raw });
    return options && options.blob ? answer.blob() : answer;
  }

  const clock = P.clock;

  // -- formatting ---------------------------------------------------------------------------------

  const timeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: CONFIG.timezone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  const dateTimeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: CONFIG.timezone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  const dateFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: CONFIG.timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });

  const fmt = {
    /** 75 → "01:15", 3700 → "1:01:40"; null → "—". */
    duration(seconds) {
      if (seconds === null || seconds === undefined) return "—";
      const s = Math.max(0, Math.floor(seconds));
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      const rest = String(s % 60).padStart(2, "0");
      return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${String(m).padStart(2, "0")}:${rest}`;
    },
    /** Seconds as minutes with one decimal ("12.5"), or "—". */
    minutes(seconds) {
      if (seconds === null || seconds === undefined) return "—";
      return (Math.round((seconds / 60) * 10) / 10).toFixed(1);
    },
    /** A rate 0..1 as "96.5%", or "—" when there is none. */
    rate(value) {
      if (value === null || value === undefined) return "—";
      return `${(Math.round(value * 1000) / 10).toFixed(1)}%`;
    },
    time(iso) {
      return iso ? timeFormat.format(new Date(iso)) : "—";
    },
    dateTime(iso) {
      return iso ? dateTimeFormat.format(new Date(iso)) : "—";
    },
    /** Today in the hall, as YYYY-MM-DD (by the server's clock). */
    today() {
      return dateFormat.format(new Date(clock.now()));
    },
  };

  const CASE_CLASSES = [
    { code: "immediate", zh: "即办件", en: "Done on the spot" },
    { code: "promised", zh: "承诺件", en: "Promised" },
    { code: "supplement", zh: "补办件", en: "Materials missing" },
    { code: "joint", zh: "联办件", en: "Joint" },
    { code: "returned", zh: "退回件", en: "Returned" },
    { code: "agent", zh: "代理件", en: "By agent" },
  ];
  const WINDOW_STATES = { closed: ["未开放", "Closed"], open: ["服务中", "Open"], paused: ["暂停服务", "Paused"] };
  const TICKET_STATES = { called: ["已叫号", "Called"], serving: ["办理中", "Serving"] };
  const PRIORITIES = { ordinary: null, green: ["绿色通道", "Green channel"], appointment: ["预约", "Appointment"] };

  // -- messages -----------------------------------------------------------------------------------

  function toast(message, kind) {
    let box = $("#toasts");
    if (!box) {
      box = el("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
      document.body.append(box);
    }
    const item = el("div", { class: `toast ${kind || "info"}` }, message);
    box.append(item);
    while (box.children.length > 3) box.firstElementChild.remove(); // the newest few, not a pile
    setTimeout(() => item.remove(), kind === "error" ? 8000 : 3000);
  }

  // -- dialogs ------------------------------------------------------------------------------------

  /** Open a <dialog> as a modal; resolves with its returnValue when it closes. */
  function modal(dialog) {
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  // -- the live link ------------------------------------------------------------------------------

  /**
   * Listen to the hall's board websocket (the shared link: since, back-off with jitter); `changed()`
   * runs after each burst of messages (at most every `minGapMs`) and after every (re)connection;
   * `status(online)` tells whether the link is up.
   */
  function live(changed, status, minGapMs) {
    const gap = minGapMs || 250;
    let timer = null;
    let lastRun = 0;
    function soon() {
      if (timer) return;
      const wait = Math.max(0, lastRun + gap - Date.now());
      timer = setTimeout(() => {
        timer = null;
        lastRun = Date.now();
        changed();
      }, wait);
    }
    const link = P.live(CONFIG.ws_path, {
      onOpen: soon,
      onStatus: status,
      onMessage: (message) => {
        if (message.type !== "pong") soon();
      },
    });
    status(false);
    return { refresh: soon, link };
  }

  window.Bianmin = {
    CONFIG,
    CASE_CLASSES,
    WINDOW_STATES,
    TICKET_STATES,
    PRIORITIES,
    ApiError: P.ApiError,
    api,
    bi,
    clock,
    el,
    errorText: P.errorText,
    fmt,
    live,
    loginForm: P.loginForm,
    newest: P.newest,
    logout: P.logout,
    modal,
    session: P.session,
    staffPage: P.staffPage,
    show,
    toast,
    $,
    set onUnauthorized(fn) {
      P.onUnauthorized = fn;
    },
  };
})();
