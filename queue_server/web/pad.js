/* 便民 Bianmin — the window's evaluator pad (评价器), /rate/{hall}/window/{n}.
 *
 * Idle: the window, the clerk on duty and post (from the board websocket's snapshot and window messages), the
 * clerk's staff number (工号, read with the pad's token from .../windows/{n}/on-duty when the clerk changes), the
 * supervision phone. A `ticket` message with event "finished" at this window (and no older than the
 * idle time, so a replay after a reconnect does not ask again) turns it to the rating of that visit:
 * the 5 levels, and the reasons, required for 不满意 / 非常不满意 as on the phone. The rating is posted by
 * window and ticket number; the server takes it only for the visit last finished here, lately, once
 * (queue_server/services/pad_ratings.py). Back to idle after the thanks, or after CONFIG.idle_s seconds
 * without a tap.
 *
 * The pad rates with its device token (`bianmin device add HALL pad-wN`): opened once as
 * /rate/{hall}/window/{n}#token=…, it keeps the token in this browser's storage and takes it out of the
 * address. Without one it shows the window and says it is not registered; it asks nobody to rate.
 */
"use strict";

(function () {
  const P = window.BianminPage;
  const { el, $ } = P;
  const CONFIG = P.config("bianmin-config");
  const THANKS_MS = 4000;
  const POSTS = { A: ["A岗", "A post"], B: ["B岗", "B post"] };
  const pad = {
    number: null, level: null, reasons: new Set(), timer: null, sending: false, modes: [], token: null, onDuty: null,
  }; // prettier-ignore
  P.clock.seen(CONFIG.server_now);
  const TOKEN_KEY = `bianmin.pad.${CONFIG.hall}.${CONFIG.window}`;

  function padToken() {
    const given = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (given) {
      window.localStorage.setItem(TOKEN_KEY, given);
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return window.localStorage.getItem(TOKEN_KEY);
  }

  function registered(yes) {
    $("#unregistered").hidden = yes;
    if (!yes) pad.token = null;
  }

  function show(name) {
    for (const id of ["idle", "ask", "thanks"]) $(`#${id}`).hidden = id !== name;
    document.body.dataset.mode = name;
    pad.modes.push([name, Date.now()]); // for tests
  }

  function idleAfter(ms) {
    clearTimeout(pad.timer);
    pad.timer = setTimeout(backToIdle, ms);
  }

  function backToIdle() {
    clearTimeout(pad.timer);
    pad.number = null;
    show("idle");
  }

  // -- idle: the window and its clerk ------------------------------------------------------------------

  function showWindow(view) {
    const open = view && view.state !== "closed" && view.clerk_name;
    $("#clerk-name").textContent = open ? view.clerk_name : "—";
    const post = open && view.post ? POSTS[view.post] : null;
    $("#clerk-post").replaceChildren(
      ...(post ? [el("span", { class: "zh", text: post[0] }), " ", el("span", { class: "en", text: post[1] })] : []),
    );
    $("#clerk-closed").hidden = Boolean(open) && view.state === "open";
    const who = open ? `${view.clerk_name}/${view.post || ""}` : null;
    if (who !== pad.onDuty) {
      pad.onDuty = who;
      $("#clerk-no").hidden = true;
      if (who && pad.token) staffNumber(who);
    }
  }

  async function staffNumber(who) {
    const answer = await P.request("GET", CONFIG.on_duty_path, { token: pad.token });
    if (answer.status !== 200 || pad.onDuty !== who) return; // a later clerk's answer wins
    $("#clerk-no-value").textContent = answer.body.staff_no || "";
    $("#clerk-no").hidden = !answer.body.staff_no;
  }

  function onMessage(message) {
    if (message.type === "snapshot") {
      showWindow(message.board.windows.find((w) => w.number === CONFIG.window));
    } else if (message.type === "window" && message.window.number === CONFIG.window) {
      showWindow(message.window);
    } else if (message.type === "ticket" && message.event === "finished" && message.window === CONFIG.window) {
      if (pad.token && P.clock.since(message.at) <= CONFIG.idle_s) ask(message.ticket.number);
    }
  }

  // -- the rating of the visit just finished --------------------------------------------------------------

  function buildRating() {
    $("#levels").append(...P.ratingLevels(CONFIG.levels, CONFIG.bad_levels, chooseLevel));
    for (const [code, zh, en] of CONFIG.reasons) {
      $("#reasons").append(
        el(
          "button",
          { type: "button", class: "reason", role: "checkbox", "aria-checked": "false", dataset: { reason: code },
            onclick: () => toggleReason(code) }, // prettier-ignore
          el("span", { class: "zh", text: zh }),
          el("span", { class: "en", text: en }),
        ),
      );
    }
    $("#comment").addEventListener("input", () => {
      validate();
      idleAfter(CONFIG.idle_s * 1000);
    });
    $("#submit").addEventListener("click", submit);
  }

  function ask(number) {
    pad.number = number;
    pad.level = null;
    pad.reasons.clear();
    for (const node of document.querySelectorAll("#levels .level, #reasons .reason")) {
      node.setAttribute("aria-checked", "false");
    }
    $("#ask-number").textContent = number;
    $("#bad").hidden = true;
    $("#comment").value = "";
    $("#ask-error").textContent = "";
    validate();
    show("ask");
    idleAfter(CONFIG.idle_s * 1000);
  }

  function chooseLevel(code) {
    pad.level = code;
    for (const node of document.querySelectorAll("#levels .level")) {
      node.setAttribute("aria-checked", String(node.dataset.level === code));
    }
    $("#bad").hidden = !CONFIG.bad_levels.includes(code);
    validate();
    idleAfter(CONFIG.idle_s * 1000);
  }

  function toggleReason(code) {
    if (pad.reasons.has(code)) pad.reasons.delete(code);
    else pad.reasons.add(code);
    $(`#reasons [data-reason="${code}"]`).setAttribute("aria-checked", String(pad.reasons.has(code)));
    validate();
    idleAfter(CONFIG.idle_s * 1000);
  }

  function validate() {
    const complete = P.ratingComplete(pad.level, pad.reasons, $("#comment").value, CONFIG.bad_levels);
    $("#submit").disabled = pad.sending || !complete;
  }

  async function submit() {
    if (pad.number === null || pad.level === null) return;
    const body = { level: pad.level };
    if (CONFIG.bad_levels.includes(pad.level)) {
      body.reasons = CONFIG.reasons.map((r) => r[0]).filter((code) => pad.reasons.has(code));
      body.comment = $("#comment").value.trim();
    }
    pad.sending = true;
    validate();
    const path = `${CONFIG.rate_path}${encodeURIComponent(pad.number)}/rating`;
    const answer = await P.request("POST", path, { body, token: pad.token });
    pad.sending = false;
    validate();
    if (answer.status === 201) {
      $("#thanks-level").replaceChildren(
        el("span", { class: "zh", text: answer.body.level_zh }),
        " ",
        el("span", { class: "en", text: CONFIG.levels.find((l) => l[0] === answer.body.level)[2] }),
      );
      show("thanks");
      idleAfter(THANKS_MS);
    } else {
      $("#ask-error").textContent = P.errorText(answer);
      if (answer.status === 401 || answer.status === 403) {
        if (answer.status === 401) window.localStorage.removeItem(TOKEN_KEY); // revoked: registered again by hand
        registered(false);
        idleAfter(THANKS_MS);
      }
      if (answer.status === 404 || answer.status === 409) idleAfter(THANKS_MS); // not this pad's to rate any more
    }
  }

  // -- start ------------------------------------------------------------------------------------------

  $("#window-number").textContent = String(CONFIG.window);
  $("#window-number-en").textContent = `Window ${CONFIG.window}`;
  $("#window-name-zh").textContent = CONFIG.window_name_zh;
  $("#window-name-en").textContent = CONFIG.window_name_en;
  if (CONFIG.supervision_phone) {
    $("#supervision-phone").textContent = CONFIG.supervision_phone;
    $("#supervision").hidden = false;
  }
  buildRating();
  pad.token = padToken();
  registered(Boolean(pad.token));
  show("idle");
  window.bianminPad = pad; // for tests
  pad.link = P.live(CONFIG.ws_path, {
    onMessage,
    onStatus: (online) => {
      $("#offline").hidden = online;
    },
  });
})();
