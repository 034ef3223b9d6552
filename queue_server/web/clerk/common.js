/* 便民 Bianmin — what the clerk console and the manager dashboard share (the manager page loads this
 * file from /console/clerk/common.js too): the session, the API, the live link, formatting, dialogs.
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
  const CONFIG = JSON.parse(document.getElementById("console-config").textContent);
  const STORE_KEY = "bianmin.session";

  // -- building the page --------------------------------------------------------------------------

  /** el("div", {class: "x", onclick: f}, "text", child, ...): an element; text is never parsed as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  /** Bilingual text: <span class="zh">…</span> <span class="en">…</span>. */
  function bi(zh, en) {
    return [el("span", { class: "zh" }, zh), " ", el("span", { class: "en" }, en)];
  }

  // -- the session --------------------------------------------------------------------------------

  const session = {
    get() {
      try {
        // Whether it has expired is the server's to say (a 401): this PC's clock may be wrong.
        return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      } catch (_error) {
        return null;
      }
    },
    set(value) {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(value));
    },
    clear() {
      sessionStorage.removeItem(STORE_KEY);
    },
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  let onUnauthorized = () => {};

  /** A call to the API: JSON in and out (a Blob with {blob: true}, the Response with {response: true});
   * errors become ApiError. */
  async function api(method, path, body, options) {
    const current = session.get();
    const headers = {};
    if (current) headers.Authorization = `Bearer ${current.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const url = path.startsWith("/") ? path : `${CONFIG.api}/${path}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (_error) {
      throw new ApiError(0, "offline", "无法连接服务器 Cannot reach the server");
    }
    if (response.status === 401 && current) {
      session.clear();
      onUnauthorized();
    }
    if (!response.ok) {
      let code = "http_error";
      let message = `${response.status}`;
      try {
        const answer = await response.json();
        code = answer.error.code;
        message = answer.error.message;
      } catch (_error) {
        /* not JSON */
      }
      throw new ApiError(response.status, code, message);
    }
    if (options && options.response) return response;
    if (options && options.blob) return response.blob();
    if (response.status === 204) return null;
    return response.json();
  }

  // -- the server's clock -------------------------------------------------------------------------

  const clock = {
    offsetMs: 0, // server time − this PC's time: a hall PC's own clock is often wrong
    seen(iso) {
      if (iso) this.offsetMs = Date.parse(iso) - Date.now();
    },
    now() {
      return Date.now() + this.offsetMs;
    },
    since(iso) {
      return iso ? Math.max(0, Math.floor((this.now() - Date.parse(iso)) / 1000)) : null;
    },
  };

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

  function errorText(error) {
    return error instanceof ApiError ? error.message : String(error);
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
   * Listen to the hall's board websocket; `changed()` runs after each burst of messages (at most every
   * `minGapMs`) and after every (re)connection; `status(online)` tells whether the link is up.
   */
  function live(changed, status, minGapMs) {
    const gap = minGapMs || 250;
    let socket = null;
    let attempt = 0;
    let timer = null;
    let lastRun = 0;
    let pinger = null;

    function soon() {
      if (timer) return;
      const wait = Math.max(0, lastRun + gap - Date.now());
      timer = setTimeout(() => {
        timer = null;
        lastRun = Date.now();
        changed();
      }, wait);
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(`${scheme}//${location.host}${CONFIG.ws_path}`);
      socket.onopen = () => {
        attempt = 0;
        status(true);
        soon();
        pinger = setInterval(() => {
          if (socket && socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
        }, 20000);
      };
      socket.onmessage = (event) => {
        if (!String(event.data).includes('"type":"pong"')) soon();
      };
      socket.onclose = () => {
        status(false);
        clearInterval(pinger);
        socket = null;
        attempt += 1;
        setTimeout(connect, Math.min(10000, 500 * 2 ** Math.min(attempt, 5)));
      };
    }

    connect();
    return { refresh: soon };
  }

  // -- login --------------------------------------------------------------------------------------

  /** Wire the login form; `done(session)` after a successful login. */
  function loginForm(form, done) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $(".login-error", form);
      error.textContent = "";
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const answer = await api("POST", "/api/v1/auth/login", {
          username: form.elements.username.value.trim(),
          password: form.elements.password.value,
        });
        form.elements.password.value = "";
        const value = {
          token: answer.access_token,
          username: answer.username,
          display_name: answer.display_name,
          role: answer.role,
          expires_at: answer.expires_at,
        };
        session.set(value);
        done(value);
      } catch (caught) {
        error.textContent = errorText(caught);
      } finally {
        button.disabled = false;
      }
    });
  }

  async function logout() {
    try {
      await api("POST", "/api/v1/auth/logout");
    } catch (_error) {
      /* already gone */
    }
    session.clear();
  }

  window.Bianmin = {
    CONFIG,
    CASE_CLASSES,
    WINDOW_STATES,
    TICKET_STATES,
    PRIORITIES,
    ApiError,
    api,
    bi,
    clock,
    el,
    errorText,
    fmt,
    live,
    loginForm,
    logout,
    modal,
    session,
    show,
    toast,
    $,
    set onUnauthorized(fn) {
      onUnauthorized = fn;
    },
  };
})();
