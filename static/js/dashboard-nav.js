// The dashboard's navigation on a wide screen: every group open, as a sidebar. CSS does it
// where ::details-content is supported; this covers browsers without it. On a phone the
// groups stay folded except the current page's one. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 48.01rem)");
  function apply() {
    if (!wide.matches) return;
    document.querySelectorAll(".dashboard-nav .nav-group").forEach(function (group) {
      group.open = true;
    });
  }
  apply();
  wide.addEventListener("change", apply);
})();
