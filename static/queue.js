// The reviewer queue (templates/cases/queue.html). Keyboard: j / k move to the next / previous case in the
// list, Enter opens it (the row is a link), a approves the open case, r puts the cursor in the reason box.
// Keys typed into a field are left alone. Everything here is an extra: the page works without it.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.closest) return false;
    // Checkboxes and buttons take no text, so the keys stay shortcuts there (e.g. right after the switch).
    var field = target.closest("input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]");
    return target.isContentEditable || !!field;
  }

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-list .q-row > a"));
  }

  function move(step) {
    var links = rowLinks();
    if (!links.length) return;
    var current = links.indexOf(document.activeElement);
    if (current < 0) {
      var open = document.querySelector("#queue-list .q-row[aria-current='true'] > a");
      current = open ? links.indexOf(open) : (step > 0 ? -1 : links.length);
    }
    var next = Math.max(0, Math.min(links.length - 1, current + step));
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
  }

  // Single-key shortcuts can be switched off (WCAG 2.1.4); the choice is kept in this browser.
  var SHORTCUTS_KEY = "zhicheng.queue.shortcuts";
  function shortcutsOn() {
    try { return window.localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (error) { return true; }
  }
  function syncToggle() {
    var toggle = document.getElementById("shortcuts-toggle");
    if (toggle) toggle.checked = shortcutsOn();
  }
  document.addEventListener("DOMContentLoaded", syncToggle);
  document.addEventListener("change", function (event) {
    if (!event.target || event.target.id !== "shortcuts-toggle") return;
    try { window.localStorage.setItem(SHORTCUTS_KEY, event.target.checked ? "on" : "off"); } catch (error) {}
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!shortcutsOn()) return;
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "a") {
      var approve = document.getElementById("approve-button");
      if (!approve) return;
      approve.click();
    } else if (event.key === "r") {
      var reason = document.getElementById("reason");
      if (!reason) return;
      reason.focus();
    } else {
      return;
    }
    event.preventDefault();
  });

  // The open case's row is marked in the list, whichever way it was opened (click, keyboard, after a decision).
  function markOpen() {
    var pane = document.querySelector("#queue-pane .case-pane");
    var id = pane ? pane.getAttribute("data-case-id") : null;
    document.querySelectorAll("#queue-list .q-row").forEach(function (row) {
      if (id && row.id === "row-" + id) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
    var layout = document.querySelector(".queue-layout");
    if (layout) layout.classList.toggle("has-pane", !!document.querySelector("#queue-pane .case-pane, #queue-pane .batch-results"));
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    markOpen();
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "queue-pane") return;
    // A refused decision: the cursor goes to the field to correct (its message is next to it).
    var invalid = target.querySelector("[aria-invalid='true']");
    var alert = target.querySelector(".decision .form-error");
    if (invalid) {
      invalid.focus();
    } else if (alert) {
      alert.scrollIntoView({ block: "center" });
    } else if (window.matchMedia("(max-width: 63.99rem)").matches) {
      // On a phone the pane sits above the list: bring the opened case into view.
      target.scrollIntoView({ block: "start" });
    }
  });

  // The sealer's "select the whole page" box.
  document.addEventListener("change", function (event) {
    if (!event.target || event.target.id !== "batch-all") return;
    document.querySelectorAll("#batch-form input[name='case_id']").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();
