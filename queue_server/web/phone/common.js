/* 便民 Bianmin phone pages: what the tracking and booking pages share.
 * Text from the server is only ever put into the page as text (textContent), never as HTML. */
"use strict";

window.Phone = (() => {
  const CONFIG = JSON.parse(document.getElementById("config").textContent);

  function $(id) {
    return document.getElementById(id);
  }

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Fetch JSON: {status, body, retryAfter}; status 0 when the server cannot be reached. */
  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_error) {
      return { status: 0, body: null, retryAfter: null };
    }
    let parsed = null;
    try {
      parsed = await response.json();
    } catch (_error) {
      parsed = null;
    }
    const retry = Number(response.headers.get("Retry-After"));
    return { status: response.status, body: parsed, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null };
  }

  /** The message of an error answer, for the citizen. */
  function errorText(answer) {
    if (answer.status === 0) return "网络连接失败，请稍后再试 (network error)";
    if (answer.status === 429) return `操作过于频繁，请 ${answer.retryAfter || 60} 秒后再试 (too many requests)`;
    const message = answer.body && answer.body.error && answer.body.error.message;
    return message || `出错了 (${answer.status})`;
  }

  function waitText(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const minutes = Math.max(1, Math.round(seconds / 60));
    return seconds < 60 ? "即将" : `约${minutes}分钟`;
  }

  function fillHall() {
    const name = $("hall-name");
    if (name) name.textContent = CONFIG.name_zh;
    const phone = $("phone");
    if (phone) phone.textContent = CONFIG.phone;
    const supervision = $("supervision");
    if (supervision) supervision.textContent = CONFIG.supervision_phone;
    const book = $("book-link");
    if (book && CONFIG.book_path) book.setAttribute("href", CONFIG.book_path);
  }

  fillHall();
  return { CONFIG, $, el, api, errorText, waitText };
})();
