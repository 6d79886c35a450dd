// The org picker (templates/_org_picker.html): a filter box over the indented select, shown only with
// JavaScript. Typing keeps the orgs whose name contains the text, their parents (for context) and the one
// already chosen.
(function () {
  "use strict";

  function filter(select, wanted) {
    var parents = [];
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) {
        return;
      }
      var depth = Number(option.dataset.depth || 0);
      parents.length = depth;
      parents[depth] = option;
      var keep = !wanted || option.selected || option.textContent.indexOf(wanted) >= 0;
      option.hidden = !keep;
      if (keep && wanted) {
        parents.forEach(function (parent) {
          parent.hidden = false;
        });
      }
    });
  }

  function setUp(root) {
    root.querySelectorAll("[data-org-picker]").forEach(function (picker) {
      if (picker.dataset.ready) {
        return;
      }
      picker.dataset.ready = "1";
      var box = picker.querySelector(".org-filter");
      var select = picker.querySelector("select");
      box.hidden = false;
      box.addEventListener("input", function () {
        filter(select, box.value.trim());
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
  });
  document.addEventListener("htmx:load", function (event) {
    setUp(event.target);
  });
})();
