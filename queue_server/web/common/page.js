/* 便民 Bianmin — the one page module every page loads first (served at /web/common/page.js): the live
 * link to the hall's websocket, the server's clock, DOM and fetch helpers, and the staff login.
 *
 * Live link (BianminPage.live): one websocket at a time to a path such as /ws/halls/{hall}/board.
 * - Every reconnection sends `?since=<last seq seen>` (the page's own seq when it passes `since()`,
 *   else the highest seq of the messages it received), so the server sends exactly what was missed,
 *   or a fresh snapshot when that is too far back.
 * - Back-off: the n-th failed attempt in a row waits min(maxMs, firstMs·2ⁿ), multiplied by a random
 *   factor between 0.5 and 1.5 (jitter), so after a server restart the hall's clerk PCs, boards and
 *   phones do not all knock in the same instant. A connection that opened and then heard a message
 *   resets the count.
 * - A ping every pingMs; a connection that hears nothing for silentMs is dropped and started again
 *   (a half-open connection, a sleeping server).
 * - `before()`, when given, runs before each attempt (the boards read the server's clock); when it
 *   resolves false the attempt counts as failed.
 * The link object records every delay it chose (`delays`) and how many connections it opened, for tests.
 *
 * Server clock (BianminPage.clock): offset = server time − (sent + received)/2, i.e. the server's
 * reading is taken to be from the middle of the round trip, so it is right to within half the round
 * trip; a sample slower than the one in use is ignored while both agree within those bounds (a slow
 * answer says less about the time), and taken when they cannot both be right (the server's clock moved).
 * Every JSON answer of fetchJSON that carries a top-level `now` is such a sample.
 *
 * Text from the server only ever goes into the page as text (el() makes text nodes), never as HTML.
 */
"use strict";

(function () {
  // -- DOM --------------------------------------------------------------------------------------------

  /** el("div", {class: "x", onclick: f, dataset: {...}, text: "t"}, "text", child, ...): an element. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    // The "en" class marks English text: a screen reader reads it with an English voice.
    if (node.classList.contains("en") && !node.hasAttribute("lang")) node.lang = "en";
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Mark the page's own English text (class "en") with lang="en", as el() does for what it builds. */
  function markEnglish(root) {
    for (const node of (root || document).querySelectorAll(".en:not([lang])")) node.lang = "en";
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  /** The JSON a page embeds in <script type="application/json" id="...">. */
  function config(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Answers shown in the order their requests were asked: a page that reads the same thing again before
   * the last read came back (a live event, then the clerk's own action) must not let the older answer,
   * arriving last, overwrite the newer one. `ask()` numbers a request; `fresh(n)` says whether its answer
   * may be shown (no later request's answer is shown yet) and, if so, marks it shown. */
  function newest() {
    let asked = 0;
    let shown = 0;
    return {
      ask: () => ++asked,
      fresh(n) {
        if (n < shown) return false;
        shown = n;
        return true;
      },
    };
  }

  // -- the server's clock -----------------------------------------------------------------------------

  const clock = {
    offsetMs: 0, // server time − this device's time: a hall PC's own clock is often wrong
    rttMs: null, // the round trip of the sample in use
    sampledAt: 0,
    /** A reading of the server's clock taken between sentAt and receivedAt (this device's Date.now()). */
    sample(iso, sentAt, receivedAt) {
      const server = Date.parse(iso);
      if (!Number.isFinite(server)) return false;
      const received = receivedAt === undefined ? Date.now() : receivedAt;
      if (sentAt === undefined) {
        // No round trip known (a time embedded in the page): used until a measured sample comes.
        if (this.rttMs !== null) return false;
        this.offsetMs = server - received;
        return true;
      }
      const rtt = Math.max(0, received - sentAt);
      const offset = server - (sentAt + received) / 2;
      // Each sample is right to within half its round trip. A slower one than the sample in use is
      // kept out unless the two cannot both be right (the server's clock was set, or jumped).
      const fresh = received - this.sampledAt > 60000;
      const consistent = Math.abs(offset - this.offsetMs) <= (rtt + (this.rttMs || 0)) / 2 + 5;
      if (this.rttMs !== null && !fresh && rtt > this.rttMs && consistent) return false;
      this.offsetMs = offset;
      this.rttMs = rtt;
      this.sampledAt = received;
      return true;
    },
    /** A server time with no round trip known (one embedded in the page). */
    seen(iso) {
      return this.sample(iso);
    },
    now() {
      return Date.now() + this.offsetMs;
    },
    /** Whole seconds since an ISO time, by the server's clock (null for none). */
    since(iso) {
      return iso ? Math.max(0, Math.floor((this.now() - Date.parse(iso)) / 1000)) : null;
    },
  };

  // -- fetch ------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter || null;
    }
  }

  /** One HTTP request: resolves {status, body, retryAfter, response} (status 0: unreachable), never throws. */
  async function request(method, url, options) {
    const opts = options || {};
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    if (opts.timeoutMs) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), opts.timeoutMs);
      init.signal = controller.signal;
    }
    const sentAt = Date.now();
    let response;
    try {
      response = await fetch(url, init);
    } catch (_error) {
      return { status: 0, body: null, retryAfter: null, response: null };
    }
    const receivedAt = Date.now();
    let body = null;
    if (!opts.raw && response.status !== 204) {
      try {
        body = await response.json();
      } catch (_error) {
        body = null;
      }
      if (body && typeof body.now === "string") clock.sample(body.now, sentAt, receivedAt);
    }
    const retry = Number(response.headers.get("Retry-After"));
    return { status: response.status, body, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null, response };
  }

  /** JSON in and out; an error answer (or no answer) throws ApiError. {raw: true} gives the Response. */
  async function fetchJSON(method, url, options) {
    const answer = await request(method, url, options);
    if (answer.status >= 200 && answer.status < 300) return options && options.raw ? answer.response : answer.body;
    const error = answer.body && answer.body.error;
    if (answer.status === 0) throw new ApiError(0, "offline", errorText(answer));
    throw new ApiError(answer.status, error ? error.code : "http_error", errorText(answer), answer.retryAfter);
  }

  /** What to tell a person about a failed request: an ApiError, an answer of request(), or anything. */
  /** The server's "English (中文)" message as the screen says it: Chinese first, then the English. */
  function chineseFirst(message) {
    const split = /^([\s\S]*?) \(([^()]*[\u4e00-\u9fff][^()]*)\)$/.exec(message);
    return split ? `${split[2]} ${split[1]}` : message;
  }

  function errorText(failure) {
    if (failure === null || failure === undefined) return "";
    if (failure instanceof ApiError) return failure.message;
    if (typeof failure === "object" && "status" in failure) {
      if (failure.status === 0) return "无法连接服务器，请稍后再试 Cannot reach the server";
      if (failure.status === 429) {
        return `操作过于频繁，请 ${failure.retryAfter || 60} 秒后再试 Too many requests`;
      }
      const message = failure.body && failure.body.error && failure.body.error.message;
      return message ? chineseFirst(message) : `出错了 Error ${failure.status}`;
    }
    return String(failure && failure.message ? failure.message : failure);
  }

  // -- the live link ----------------------------------------------------------------------------------

  /** The delay before the attempt after `failures` failed ones: exponential, capped, jittered ×0.5–1.5. */
  function backoff(failures, firstMs, maxMs, random) {
    const base = Math.min(maxMs, firstMs * 2 ** Math.min(failures, 20));
    return base * (0.5 + (random || Math.random)());
  }

  /**
   * Keep a websocket to `path` open. Options: onMessage(message), onStatus(online), onOpen(), since()
   * (the seq to resume from, or null), before() (async, false = do not connect now), firstMs (500),
   * maxMs (10000), pingMs (20000), silentMs (pingMs × 2.5).
   */
  function live(path, options) {
    const opts = options || {};
    const firstMs = opts.firstMs || 500;
    const maxMs = opts.maxMs || 10000;
    const pingMs = opts.pingMs || 20000;
    const silentMs = opts.silentMs || pingMs * 2.5;
    const link = {
      socket: null,
      seq: null, // the highest seq received
      failures: 0, // failed attempts since the last good connection
      connects: 0, // connections opened in all
      delays: [], // every back-off delay chosen, in ms (the last 50)
      lastHeard: Date.now(),
      online: false,
      stopped: false,
      urls: [], // the URLs of the last attempts (the last 20), for tests
      retryTimer: null,
      close() {
        this.stopped = true;
        clearTimeout(this.retryTimer);
        if (this.socket) this.socket.close();
      },
      /** Drop the connection now and reconnect (with the back-off). */
      restart() {
        if (this.socket) this.socket.close();
      },
    };

    function status(online) {
      if (link.online === online) return;
      link.online = online;
      if (opts.onStatus) opts.onStatus(online);
    }

    function url() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const since = opts.since ? opts.since() : link.seq;
      const query = since === null || since === undefined ? "" : `${path.includes("?") ? "&" : "?"}since=${since}`;
      return `${scheme}//${location.host}${path}${query}`;
    }

    function schedule() {
      if (link.stopped || link.retryTimer !== null) return;
      const delay = backoff(link.failures, firstMs, maxMs);
      link.failures += 1;
      link.delays.push(Math.round(delay));
      if (link.delays.length > 50) link.delays.shift();
      link.retryTimer = setTimeout(connect, delay);
    }

    async function connect() {
      link.retryTimer = null;
      if (link.stopped) return;
      if (opts.before && !(await opts.before())) {
        schedule();
        return;
      }
      let socket;
      try {
        socket = new WebSocket(url());
      } catch (_error) {
        schedule();
        return;
      }
      link.urls.push(socket.url);
      if (link.urls.length > 20) link.urls.shift();
      link.socket = socket;
      let pinger = null;
      socket.addEventListener("open", () => {
        link.connects += 1;
        link.lastHeard = Date.now();
        pinger = setInterval(() => {
          if (Date.now() - link.lastHeard > silentMs) socket.close();
          else if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
        }, Math.min(pingMs, silentMs / 2));
        status(true);
        if (opts.onOpen) opts.onOpen();
      });
      socket.addEventListener("message", (event) => {
        link.lastHeard = Date.now();
        link.failures = 0;
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (_error) {
          return;
        }
        if (message.type === "snapshot") link.seq = message.seq;
        else if (typeof message.seq === "number" && message.type !== "pong") link.seq = Math.max(link.seq ?? 0, message.seq);
        if (opts.onMessage) opts.onMessage(message);
      });
      socket.addEventListener("close", () => {
        clearInterval(pinger);
        if (link.socket !== socket) return;
        link.socket = null;
        status(false);
        schedule();
      });
    }

    connect();
    return link;
  }

  // -- the staff session --------------------------------------------------------------------------------

  const STORE_KEY = "bianmin.session";
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

  let onUnauthorized = () => {};

  /** A staff call: the session's bearer token goes along; a 401 ends the session. Throws ApiError. */
  async function staffJSON(method, url, body, options) {
    const current = session.get();
    try {
      return await fetchJSON(method, url, { ...(options || {}), body, token: current ? current.token : null });
    } catch (error) {
      if (error.status === 401 && current) {
        session.clear();
        onUnauthorized();
      }
      throw error;
    }
  }

  /** Wire a login form (username, password, .login-error, a submit button); done(session) on success. */
  function loginForm(form, done) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $(".login-error", form);
      error.textContent = "";
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const answer = await staffJSON("POST", "/api/v1/auth/login", {
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
      await staffJSON("POST", "/api/v1/auth/logout");
    } catch (_error) {
      /* already gone */
    }
    session.clear();
  }

  /**
   * The login scaffolding of a staff page (#login with #login-form, #logout, #who): shows the form,
   * restores a session kept in this tab, logs in and out, and returns to the form on any 401.
   * hide: the selectors hidden while logged out; begin(session): the page's own start.
   * Returns {showLogin(message)}.
   */
  function staffPage(options) {
    const hide = options.hide || [];
    function showLogin(message) {
      for (const selector of [...hide, "#logout"]) {
        for (const node of document.querySelectorAll(selector)) node.hidden = true;
      }
      if (options.onLogout) options.onLogout();
      $("#login").hidden = false;
      $("#who").textContent = "";
      $("#login .login-error").textContent = message || "";
      $("#login-form").elements.username.focus();
    }
    function begin(value) {
      $("#login").hidden = true;
      $("#logout").hidden = false;
      $("#who").replaceChildren(value.display_name, " ", el("span", { class: "en", lang: "en" }, value.username));
      return options.begin(value);
    }
    onUnauthorized = () => showLogin("登录已失效，请重新登录 Your login has ended: log in again");
    loginForm($("#login-form"), begin);
    $("#logout").addEventListener("click", async () => {
      await logout();
      showLogin("");
    });
    const kept = session.get();
    if (kept) begin(kept);
    else showLogin("");
    return { showLogin };
  }

  // -- a rating (好差评): the citizen's phone and the window's evaluator pad ---------------------------------

  /** The rating levels [code, zh, en] as radio buttons; `choose(code)` on a tap. */
  function ratingLevels(levels, badLevels, choose) {
    return levels.map(([code, zh, en]) =>
      el(
        "button",
        {
          type: "button",
          class: "level",
          role: "radio",
          "aria-checked": "false",
          dataset: { level: code, bad: badLevels.includes(code) ? "1" : "0" },
          onclick: () => choose(code),
        },
        el("span", { class: "zh", text: zh }),
        el("span", { class: "en", text: en }),
      ),
    );
  }

  /** The server's rule (services/ratings.py): a level; for a bad one an indicator, and with "overall" alone, words. */
  function ratingComplete(level, reasons, comment, badLevels) {
    if (level === null) return false;
    if (!badLevels.includes(level)) return true;
    return reasons.size > 0 && !(reasons.size === 1 && reasons.has("overall") && !comment.trim());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => markEnglish());
  else markEnglish();

  window.BianminPage = {
    ApiError,
    backoff,
    clock,
    config,
    el,
    errorText,
    fetchJSON,
    live,
    loginForm,
    logout,
    markEnglish,
    newest,
    ratingComplete,
    ratingLevels,
    request,
    session,
    sleep,
    staffJSON,
    staffPage,
    $,
    set onUnauthorized(fn) {
      onUnauthorized = fn;
    },
  };
})();
