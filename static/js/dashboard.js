// Coach dashboard: "Add a window" and "Clear" buttons for rows of start/end times.
// The forms work without this script (three rows a day, blank rows ignored); it only
// saves a round trip when a day needs more windows. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function renumber(row, prefix, index) {
    var pattern = new RegExp("^(id_)?" + prefix + "-\\d+-");
    row.querySelectorAll("input").forEach(function (input) {
      input.name = input.name.replace(pattern, prefix + "-" + index + "-");
      input.id = input.id.replace(pattern, "id_" + prefix + "-" + index + "-");
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    row.querySelectorAll("label").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(pattern, "id_" + prefix + "-" + index + "-");
    });
    row.querySelectorAll(".visually-hidden").forEach(function (span) {
      span.textContent = span.textContent.replace(/window \d+/, "window " + (index + 1));
    });
    row.querySelectorAll(".window-errors").forEach(function (errors) {
      errors.remove();
    });
  }

  function clearRow(row) {
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
    });
  }

  function enhance(fieldset) {
    var prefix = fieldset.dataset.prefix;
    var maxRows = parseInt(fieldset.dataset.maxRows || "12", 10);
    var list = fieldset.querySelector(".window-rows");
    var add = fieldset.querySelector("[data-add-row]");

    function rows() {
      return list.querySelectorAll("[data-window-row]");
    }

    function wireClear(row) {
      var button = row.querySelector("[data-clear-row]");
      if (!button) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        clearRow(row);
        row.querySelector("input").focus();
      });
    }

    rows().forEach(wireClear);
    if (!add) return;
    add.hidden = rows().length >= maxRows;
    add.addEventListener("click", function () {
      var current = rows();
      if (current.length >= maxRows) return;
      var row = current[current.length - 1].cloneNode(true);
      renumber(row, prefix, current.length);
      list.appendChild(row);
      wireClear(row);
      row.querySelector("input").focus();
      add.hidden = rows().length >= maxRows;
    });
  }

  document.querySelectorAll("[data-window-rows]").forEach(enhance);
})();
