/* 我的电子证书: one tap copies a share link. Without this file the read-only box beside the button still holds
   the link to select and copy by hand, and the button stays hidden. */
(function () {
  "use strict";

  function reveal() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }

  function copyBySelection(input, id) {
    input.focus();
    input.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(id, copied ? "已复制链接" : "请长按或按 Ctrl+C 复制已选中的链接");
  }

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { say(id, "已复制链接"); },
        function () { copyBySelection(input, id); }
      );
    } else {
      copyBySelection(input, id);
    }
  });

  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSettle", reveal);
})();
