// Live preview of Markdown (landing page introduction, broadcasts) in the coach dashboard.
// The server renders and sanitises the Markdown (common/markdown.py); this script only
// posts the text and shows the answer. Without it, the "Preview without saving" button
// does the same with a page load. No inline script: the CSP forbids it.
(function () {
  "use strict";

  var DELAY_MS = 400;

  function enhance(form) {
    var source = document.getElementById(form.dataset.previewSource);
    var target = form.querySelector("[data-preview-target]");
    var status = form.querySelector("[data-preview-status]");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!source || !target || !csrf) return;
    var timer = null;
    var latest = 0;

    function refresh() {
      var ticket = ++latest;
      var body = new FormData();
      body.append("text", source.value);
      body.append("csrfmiddlewaretoken", csrf.value);
      fetch(form.dataset.previewUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf.value },
      })
        .then(function (response) {
          return response.text().then(function (html) {
            return { ok: response.ok, html: html };
          });
        })
        .then(function (result) {
          if (ticket !== latest) return; // an older answer arrived late
          // Sanitised on the server; parsed here without running anything.
          var parsed = new DOMParser().parseFromString(result.html, "text/html");
          target.replaceChildren.apply(target, Array.prototype.slice.call(parsed.body.childNodes));
          if (status) status.textContent = result.ok ? "Preview updated (not saved yet)." : "";
        })
        .catch(function () {
          if (status) status.textContent = "The preview could not be updated. Use “Preview without saving”.";
        });
    }

    source.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    });
  }

  document.querySelectorAll("form[data-live-preview]").forEach(enhance);
})();
