// "Become a coach": suggests the browser's time zone, checks the address as it is typed,
// and on "your page is ready" copies and shares the link. Every part works without this
// script (UTC is preselected, the form re-checks the address, the link is in a read-only
// field with a mailto: link). No inline script: the CSP forbids it.
(function () {
  "use strict";

  function suggestZone(form) {
    if (!form.hasAttribute("data-suggest-zone")) return;
    var select = form.querySelector("select[name=time_zone]");
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!select || !zone) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.value = zone;
        return;
      }
    }
  }

  function watchAddress(form) {
    var input = form.querySelector("input[name=slug]");
    var status = form.querySelector("[data-address-status]");
    var preview = form.querySelector("[data-address-preview]");
    var url = form.getAttribute("data-address-url");
    if (!input || !status || !url || !window.fetch) return;
    var describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (describedBy.indexOf(status.id) === -1) describedBy.push(status.id);
    input.setAttribute("aria-describedby", describedBy.join(" "));
    var timer = null;
    var latest = 0;

    function check() {
      var slug = input.value.trim().toLowerCase();
      if (preview) preview.textContent = slug || "your-name";
      if (!slug) {
        status.textContent = "";
        return;
      }
      var ticket = ++latest;
      fetch(url + "?slug=" + encodeURIComponent(slug), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (ticket !== latest) return; // an older answer arriving late
          status.textContent = answer.message;
          status.className = answer.ok ? "helptext address-ok" : "helptext address-problem errorlist";
        })
        .catch(function () {
          if (ticket === latest) status.textContent = "";
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 300);
    });
  }

  function share(panel) {
    var url = panel.getAttribute("data-share-url");
    var title = panel.getAttribute("data-share-title");
    var status = panel.querySelector("[data-share-status]");
    var field = panel.querySelector("input[readonly]");
    var copy = panel.querySelector("[data-copy]");
    var native = panel.querySelector("[data-native-share]");
    // What is copied, in the messages: "link" unless the panel says (data-copy-what="token").
    var what = panel.getAttribute("data-copy-what") || "link";
    var What = what.charAt(0).toUpperCase() + what.slice(1);

    if (copy && navigator.clipboard && window.isSecureContext) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(url).then(
          function () {
            status.textContent = What + " copied.";
          },
          function () {
            // Not allowed here: select the link so the person can copy it themselves.
            field.focus();
            field.select();
            status.textContent = "Copying was blocked: the " + what + " is selected, copy it with Ctrl+C or ⌘C.";
          }
        );
      });
    } else if (copy) {
      // No clipboard access (plain http): selecting the link is the next best thing.
      copy.hidden = false;
      copy.textContent = "Select " + what;
      copy.addEventListener("click", function () {
        field.focus();
        field.select();
        status.textContent = "The " + what + " is selected: copy it with Ctrl+C or ⌘C.";
      });
    }
    if (native && navigator.share) {
      native.hidden = false;
      native.addEventListener("click", function () {
        navigator.share({ title: title, url: url }).catch(function () {
          /* dismissed: nothing to say */
        });
      });
    }
    if (field) {
      field.addEventListener("focus", function () {
        field.select();
      });
    }
  }

  document.querySelectorAll("form[data-onboarding]").forEach(function (form) {
    suggestZone(form);
    watchAddress(form);
  });
  document.querySelectorAll("[data-share]").forEach(share);
})();
