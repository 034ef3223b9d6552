/* 便民 Bianmin phone pages: what the tracking and booking pages share, on top of the shared page module
 * (/web/common/page.js: el, $, request, errorText, the live link, the server clock).
 * Text from the server is only ever put into the page as text (textContent), never as HTML. */
"use strict";

window.Phone = (() => {
  const P = window.BianminPage;
  const CONFIG = P.config("config");
  const { $, el, errorText } = P;

  /** Fetch JSON: {status, body, retryAfter}; status 0 when the server cannot be reached. */
  function api(method, path, body) {
    return P.request(method, path, { body });
  }

  function waitText(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const minutes = Math.max(1, Math.round(seconds / 60));
    return seconds < 60 ? "即将" : `约${minutes}分钟`;
  }

  function fillHall() {
    const name = $("#hall-name");
    if (name) name.textContent = CONFIG.name_zh;
    const phone = $("#phone");
    if (phone) phone.textContent = CONFIG.phone;
    const supervision = $("#supervision");
    if (supervision) supervision.textContent = CONFIG.supervision_phone;
    const book = $("#book-link");
    if (book && CONFIG.book_path) book.setAttribute("href", CONFIG.book_path);
  }

  /** HH:MM of an instant, in the hall's time zone. */
  function timeOf(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: CONFIG.timezone });
  }

  /** Show a message in the error paragraph #id (as text), or hide it. */
  function showError(id, text) {
    $(`#${id}`).hidden = false;
    $(`#${id}`).textContent = text;
  }

  function hideError(id) {
    $(`#${id}`).hidden = true;
  }

  fillHall();
  return { CONFIG, P, $, el, api, errorText, waitText, timeOf, showError, hideError };
})();
