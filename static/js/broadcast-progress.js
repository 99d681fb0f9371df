// Broadcast progress in the coach dashboard: polls the JSON endpoint while the email
// goes out and updates the bar and the text. Without it, the "Refresh" link reloads.
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) return;
  var bar = panel.querySelector("[data-progress-bar]");
  var text = panel.querySelector("[data-progress-text]");
  var reload = panel.querySelector("[data-progress-reload]");
  var heading = panel.querySelector("h2");
  if (reload) reload.hidden = true;

  function describe(p) {
    if (!p.planned) return "Preparing the list of recipients…";
    var parts = [p.sent + " of " + p.total + " sent"];
    if (p.failed) parts.push(p.failed + " failed");
    if (p.skipped) parts.push(p.skipped + " skipped (unsubscribed meanwhile)");
    return parts.join(", ") + "." + (p.finished ? " Done." : "");
  }

  function poll() {
    fetch(panel.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (p) {
        bar.max = Math.max(p.total, 1);
        bar.value = p.done;
        var message = describe(p);
        if (text.textContent.trim() !== message) text.textContent = message;
        if (p.finished) {
          if (heading) heading.textContent = "Sent";
          return;
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        if (reload) reload.hidden = false;
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
