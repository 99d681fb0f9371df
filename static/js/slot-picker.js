// Slot picker: the week view of free times, made quicker.
//
// The page works without this script: weeks are links, the zone is a GET form and
// every time is a link to the booking form. With it:
// - previous/next week fetch the JSON API (/api/v1/.../slots) instead of loading a page,
//   and the change is announced in an aria-live region;
// - when nothing told the server the visitor's zone, the browser's zone is used (on the
//   coach's landing page too, for its "next free" times);
// - picking a zone shows the times in it at once (the "Show times" button is for no-JS);
// - a filter box narrows the long list of zones;
// - times read 12- or 24-hour as the browser's own locale does, like the server's pages
//   (common/hour_cycle.py reads the same choice from Accept-Language);
// - forms marked data-submit-once can't be sent twice by a double click.
// Any failure falls back to an ordinary page load. No inline script: the CSP forbids it.
(function () {
  "use strict";

  var WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var WEEK = 7;

  function parseDate(iso) {
    var p = iso.split("-");
    return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2]));
  }

  function isoDate(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(iso, days) {
    var date = parseDate(iso);
    date.setUTCDate(date.getUTCDate() + days);
    return isoDate(date);
  }

  // "Wednesday 2 December", as the server writes it.
  function dayLabel(iso) {
    var date = parseDate(iso);
    return WEEKDAYS[date.getUTCDay()] + " " + date.getUTCDate() + " " + MONTHS[date.getUTCMonth()];
  }

  // "1–7 December 2026", "28 November – 4 December 2026", or both years in full.
  function weekTitle(startIso, endIso) {
    var s = parseDate(startIso), e = parseDate(endIso);
    var sm = MONTHS[s.getUTCMonth()], em = MONTHS[e.getUTCMonth()];
    if (s.getUTCFullYear() === e.getUTCFullYear() && s.getUTCMonth() === e.getUTCMonth()) {
      return s.getUTCDate() + "–" + e.getUTCDate() + " " + em + " " + e.getUTCFullYear();
    }
    if (s.getUTCFullYear() === e.getUTCFullYear()) {
      return s.getUTCDate() + " " + sm + " – " + e.getUTCDate() + " " + em + " " + e.getUTCFullYear();
    }
    return s.getUTCDate() + " " + sm + " " + s.getUTCFullYear() + " – " +
      e.getUTCDate() + " " + em + " " + e.getUTCFullYear();
  }

  var formatters = {};

  // Whether the browser's locale reads "4:00 PM" rather than "16:00".
  var TWELVE_HOUR = (function () {
    try {
      var options = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).resolvedOptions();
      return options.hourCycle ? options.hourCycle === "h11" || options.hourCycle === "h12" : !!options.hour12;
    } catch (error) {
      return false;
    }
  })();

  // "16:00" -> "4:00 PM" for a 12-hour reader, written as common/display.py writes it.
  function clockText(hhmm) {
    if (!TWELVE_HOUR) return hhmm;
    var hour = parseInt(hhmm.slice(0, 2), 10);
    return (hour % 12 || 12) + ":" + hhmm.slice(3, 5) + (hour < 12 ? " AM" : " PM");
  }

  // "today 15:30", "tomorrow 09:00", "Tue 10:30" within a week, else "Tue 15 Dec, 10:30",
  // as common/display.py's when_label.
  function whenLabel(instant, zone, nowInstant) {
    var local = wallClock(instant, zone);
    var today = wallClock(nowInstant, zone).date;
    var days = Math.round((parseDate(local.date) - parseDate(today)) / 864e5);
    var clock = clockText(local.time);
    var date = parseDate(local.date);
    var weekday = WEEKDAYS[date.getUTCDay()].slice(0, 3);
    if (days === 0) return "today " + clock;
    if (days === 1) return "tomorrow " + clock;
    if (days < 7) return weekday + " " + clock;
    return weekday + " " + date.getUTCDate() + " " + MONTHS[date.getUTCMonth()].slice(0, 3) + ", " + clock;
  }

  function zoneCity(zone) {
    return zone.split("/").pop().replace(/_/g, " ");
  }

  // {date: "2026-12-02", time: "16:00"}: the wall clock of an instant in a zone.
  function wallClock(instant, zone) {
    if (!formatters[zone]) {
      formatters[zone] = new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      });
    }
    var parts = {};
    formatters[zone].formatToParts(instant).forEach(function (part) {
      parts[part.type] = part.value;
    });
    return { date: parts.year + "-" + parts.month + "-" + parts.day, time: parts.hour + ":" + parts.minute };
  }

  function utcIso(instant) {
    return instant.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  function query(params) {
    return "?" + new URLSearchParams(params).toString();
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Browsers (ICU) still report some zones by their old names; prefer today's.
  var RENAMED = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon",
    "Europe/Kiev": "Europe/Kyiv",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "America/Godthab": "America/Nuuk",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei"
  };

  function browserZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      return RENAMED[zone] || zone;
    } catch (error) {
      return "";
    }
  }

  function enhancePicker(root) {
    var data = root.dataset;
    var days = root.querySelector("[data-picker-days]");
    var status = root.querySelector("[data-picker-status]");
    var title = root.querySelector("[data-week-title]");
    var prev = root.querySelector("[data-week-link=prev]");
    var next = root.querySelector("[data-week-link=next]");
    var zoneForm = root.querySelector("[data-zone-form]");
    var zoneSelect = root.querySelector("[data-zone-select]");
    var zoneLabel = root.querySelector("[data-zone-label]");
    var horizon = parseInt(data.horizon || "60", 10);
    // Count days from the server's clock, not the visitor's (which may be wrong).
    var skew = data.now && !isNaN(Date.parse(data.now)) ? Date.parse(data.now) - Date.now() : 0;
    var loading = null;

    function pageUrl(week, zone) {
      return window.location.pathname + query({ tz: zone, week: week });
    }

    function today(zone) {
      return wallClock(new Date(Date.now() + skew), zone).date;
    }

    function lastDay(zone) {
      return wallClock(new Date(Date.now() + skew + horizon * 864e5), zone).date;
    }

    function renderDays(week, zone, slots) {
      var byDay = {};
      var order = [];
      for (var n = 0; n < WEEK; n++) {
        var iso = addDays(week, n);
        byDay[iso] = [];
        order.push(iso);
      }
      slots.forEach(function (slot) {
        var instant = new Date(slot.start);
        var local = wallClock(instant, zone);
        if (byDay[local.date]) byDay[local.date].push({ instant: instant, time: local.time, iso: slot.start });
      });
      var fragment = document.createDocumentFragment();
      order.forEach(function (iso) {
        var section = make("section", "picker-day" + (byDay[iso].length ? "" : " picker-day-empty"));
        var heading = make("h4", "", dayLabel(iso));
        heading.id = "day-" + iso;
        section.setAttribute("aria-labelledby", heading.id);
        section.appendChild(heading);
        if (!byDay[iso].length) {
          section.appendChild(make("p", "picker-none", "No free times"));
        } else {
          var list = make("ul", "picker-slots");
          byDay[iso].forEach(function (slot) {
            var link = make("a", "slot-link");
            link.href = data.slotUrl + query({ start: utcIso(slot.instant), tz: zone });
            link.appendChild(make("span", "visually-hidden", dayLabel(iso) + ", "));
            var time = make("time", "", clockText(slot.time));
            time.setAttribute("datetime", slot.iso);
            link.appendChild(time);
            var item = make("li");
            item.appendChild(link);
            list.appendChild(item);
          });
          section.appendChild(list);
        }
        fragment.appendChild(section);
      });
      days.replaceChildren(fragment);
    }

    function setLink(link, week, zone, show) {
      if (!link) return;
      link.hidden = !show;
      if (show) {
        link.href = pageUrl(week, zone);
      }
    }

    // Show ``week`` in ``zone`` from the API; ``history`` is "push", "replace" or "none".
    function load(week, zone, history, focusAfter) {
      var first = today(zone), last = lastDay(zone);
      if (week < first) week = first;
      if (week > last) week = last;
      var target = pageUrl(week, zone);
      var end = addDays(week, WEEK - 1);
      if (loading) loading.abort();
      loading = window.AbortController ? new AbortController() : null;
      days.setAttribute("aria-busy", "true");
      status.textContent = "Loading free times…";
      fetch(data.api + query({ start: week, end: end, tz: zone }), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: loading ? loading.signal : undefined
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (body) {
        var slots = (body && body.slots) || [];
        if (!slots.length) {
          // The server's empty state points at the next week with free times.
          window.location.assign(target);
          return;
        }
        renderDays(week, zone, slots);
        title.textContent = weekTitle(week, end);
        setLink(prev, addDays(week, -WEEK) < first ? first : addDays(week, -WEEK), zone, week > first);
        setLink(next, addDays(week, WEEK), zone, addDays(week, WEEK) <= last);
        data.week = week;
        data.tz = zone;
        if (zoneLabel) zoneLabel.textContent = zone;
        if (zoneSelect) zoneSelect.value = zone;
        if (zoneForm && zoneForm.elements.week) zoneForm.elements.week.value = week;
        if (history === "push") window.history.pushState({ week: week, tz: zone }, "", target);
        if (history === "replace") window.history.replaceState({ week: week, tz: zone }, "", target);
        days.removeAttribute("aria-busy");
        status.textContent = "Showing " + weekTitle(week, end) + " in " + zone + ": " +
          slots.length + " free time" + (slots.length === 1 ? "" : "s") + ".";
        if (focusAfter && focusAfter.hidden) title.focus();
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        window.location.assign(target);
      });
    }

    title.setAttribute("tabindex", "-1");
    [prev, next].forEach(function (link) {
      if (!link) return;
      link.addEventListener("click", function (event) {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
        var params = new URLSearchParams(link.search);
        if (!params.get("week")) return;
        event.preventDefault();
        load(params.get("week"), params.get("tz") || data.tz, "push", link);
      });
    });

    window.addEventListener("popstate", function () {
      var params = new URLSearchParams(window.location.search);
      load(params.get("week") || data.today, params.get("tz") || data.tz, "none");
    });

    // A filter box for the long <select> of zones.
    var filter = root.querySelector("[data-zone-filter]");
    if (filter && zoneSelect) {
      filter.hidden = false;
      filter.addEventListener("input", function () {
        var needle = filter.value.trim().toLowerCase().replace(/\s+/g, "_");
        var firstMatch = null;
        Array.prototype.forEach.call(zoneSelect.options, function (option) {
          var match = !needle || option.value.toLowerCase().indexOf(needle) !== -1;
          option.hidden = !match;
          option.disabled = !match;
          if (match && !firstMatch) firstMatch = option;
        });
        var current = zoneSelect.options[zoneSelect.selectedIndex];
        if (firstMatch && (!current || current.hidden)) zoneSelect.value = firstMatch.value;
        status.textContent = firstMatch ? "Time zones filtered; " + zoneSelect.value + " selected." : "No time zone matches.";
      });
    }

    function currentWeek() {
      return zoneForm && zoneForm.elements.week ? zoneForm.elements.week.value : data.week;
    }

    // Signed-in visitors submit the zone form normally, so their account remembers it.
    if (zoneForm && zoneSelect && !data.signedIn) {
      zoneForm.addEventListener("submit", function (event) {
        event.preventDefault();
        load(currentWeek(), zoneSelect.value, "push");
      });
    }
    // A picked zone applies at once, for everyone: the times change in place (no page load,
    // so arrowing through the list is no change of context); the week links follow it.
    if (zoneSelect) {
      zoneSelect.addEventListener("change", function () {
        if (zoneSelect.value && zoneSelect.value !== data.tz) load(currentWeek(), zoneSelect.value, "replace");
      });
    }

    // Nothing told the server the visitor's zone: use the browser's.
    if (data.detectZone) {
      var zone = browserZone();
      var known = zone && zoneSelect && Array.prototype.some.call(zoneSelect.options, function (option) {
        return option.value === zone;
      });
      if (known && zone !== data.tz) {
        if (data.signedIn) {
          window.location.replace(pageUrl(data.week, zone));
        } else {
          load(data.week, zone, "replace");
        }
      }
    }
  }

  // The coach's landing page: when the server only guessed the zone (the coach's), show the
  // next free times in the browser's zone, name it, and open the offerings in it.
  function enhanceNextFree(root) {
    var data = root.dataset;
    if (!data.detectZone) return;
    var zone = browserZone();
    if (!zone || zone === data.nextFreeZone) return;
    try {
      wallClock(new Date(), zone);
    } catch (error) {
      return; // a zone this browser can't format: keep the server's
    }
    var now = data.now && !isNaN(Date.parse(data.now)) ? new Date(data.now) : new Date();
    root.querySelectorAll("[data-next-free] time[datetime], .card time[datetime]").forEach(function (node) {
      var instant = new Date(node.getAttribute("datetime"));
      if (isNaN(instant.getTime())) return;
      node.textContent = whenLabel(instant, zone, now);
    });
    root.querySelectorAll("[data-zone-text]").forEach(function (node) {
      node.textContent = "your time (" + (node.dataset.zoneText === "long" ? zone : zoneCity(zone)) + ")";
    });
    root.querySelectorAll(".landing-cta a[href], .card-action a[href]").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      if (url.origin !== window.location.origin) return;
      url.searchParams.set("tz", zone);
      link.href = url.pathname + url.search;
    });
  }

  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
      });
    });
    // Coming back to the page (back button) makes the form usable again.
    window.addEventListener("pageshow", function () {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  }

  document.querySelectorAll("[data-slot-picker]").forEach(enhancePicker);
  document.querySelectorAll("[data-next-free-zone]").forEach(enhanceNextFree);
  document.querySelectorAll("form[data-submit-once]").forEach(submitOnce);
})();
