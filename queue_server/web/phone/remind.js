/* 便民 Bianmin: the phone reminder on the tracking page (when the hall has a webhook to its SMS gateway).
 *
 * The citizen ticks their consent and types a mobile number: the server texts 快到您了 when few are ahead
 * and the call. The number is kept for the day only and shown back masked. Offered while the ticket waits.
 */
"use strict";

(() => {
  const { CONFIG, $, api, errorText } = window.Phone;
  if (!CONFIG.reminder_path) return;
  const WAITING = new Set(["waiting", "transferred"]);
  const box = $("#remind");

  function show(reminder) {
    $("#remind-form").hidden = reminder.active;
    $("#remind-on").hidden = !reminder.active;
    $("#remind-masked").textContent = reminder.phone || "";
  }

  function fail(answer) {
    const error = $("#remind-error");
    error.textContent = errorText(answer);
    error.hidden = false;
  }

  async function read() {
    const answer = await api("GET", CONFIG.reminder_path);
    if (answer.status !== 200 || !answer.body.available) return;
    const status = window.bianminPhone.status;
    box.hidden = !(answer.body.active || (status && WAITING.has(status.state)));
    show(answer.body);
  }

  $("#remind-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#remind-error").hidden = true;
    const body = { phone: $("#remind-phone").value.trim(), consent: $("#remind-consent").checked };
    const answer = await api("POST", CONFIG.reminder_path, body);
    if (answer.status === 200) show(answer.body);
    else fail(answer);
  });

  $("#remind-off").addEventListener("click", async () => {
    const answer = await api("DELETE", CONFIG.reminder_path);
    if (answer.status === 204) {
      $("#remind-phone").value = "";
      $("#remind-consent").checked = false;
      show({ active: false });
    } else fail(answer);
  });

  // The status is read by track.js; offer the reminder once it is known (a waiting ticket).
  let tries = 0;
  const wait = setInterval(() => {
    tries += 1;
    if (window.bianminPhone.status || tries > 40) {
      clearInterval(wait);
      read();
    }
  }, 250);
})();
