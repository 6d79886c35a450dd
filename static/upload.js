/* Filing pages: upload progress and friendlier htmx error handling. Everything works without this file
   (plain form posts); with it, an upload shows its progress and is checked for size before it is sent. */
(function () {
  "use strict";

  function uploadForm(event) {
    var target = event.target;
    return target && target.closest ? target.closest("form[data-upload]") : null;
  }

  function showError(form, text) {
    var box = form.querySelector("[data-upload-error]");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function setProgress(form, percent) {
    var box = form.querySelector("[data-progress-box]");
    var bar = form.querySelector("[data-progress]");
    var label = form.querySelector("[data-progress-text]");
    if (!box || !bar) return;
    box.hidden = false;
    bar.value = percent;
    bar.textContent = percent + "%";
    if (label) label.textContent = percent >= 100 ? "上传完成，正在检查文件…" : "已上传 " + percent + "%";
  }

  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "") + "MB";
    return (bytes / 1024).toFixed(1).replace(/\.0$/, "") + "KB";
  }

  // Too big for the slot: say so at once instead of sending megabytes over a phone connection.
  document.addEventListener("htmx:confirm", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    var limit = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    var file = input && input.files && input.files[0];
    showError(form, "");
    if (!file) {
      event.preventDefault();
      showError(form, "请选择要上传的文件");
    } else if (limit && file.size > limit) {
      event.preventDefault();
      showError(form, "文件大小 " + sizeText(file.size) + " 超过上限 " + form.getAttribute("data-limit") + "，请压缩后再上传");
    }
  });

  document.addEventListener("htmx:xhr:loadstart", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    form.removeAttribute("data-uploaded");
    setProgress(form, 0);
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    // htmx reports the upload and then the answer's download under the same name: the bar follows the
    // upload only.
    if (!form || form.hasAttribute("data-uploaded")) return;
    if (!event.detail.lengthComputable || !event.detail.total) return;
    var percent = Math.min(100, Math.round((event.detail.loaded / event.detail.total) * 100));
    setProgress(form, percent);
    if (percent >= 100) form.setAttribute("data-uploaded", "");
  });

  // A refusal the page's htmx config does not swap: the body limit (413) or a network failure.
  document.addEventListener("htmx:responseError", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showError(form, status === 413 ? "文件过大，未被接收，请压缩后再上传" : "上传失败（" + status + "），请稍后重试");
  });

  // Keyboard and screen-reader users: htmx replaced the element that had the focus (the slot after an
  // upload, the form after a save with errors), so the focus goes to what to look at next — the summary of
  // what to correct, or the new file field of the slot — instead of falling back to the top of the page.
  var pendingSlot = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    pendingSlot = form ? (form.getAttribute("hx-target") || "").replace(/^#/, "") : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    var summary = document.getElementById("part-errors");
    if (summary && !summary.hasAttribute("data-focused")) {
      summary.setAttribute("data-focused", "");
      summary.focus();
      return;
    }
    if (!pendingSlot) return;
    var slot = document.getElementById(pendingSlot);
    pendingSlot = null;
    if (!slot || slot.contains(document.activeElement)) return;
    var field = slot.querySelector("input[type=file]");
    if (field) field.focus();
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
    showError(form, "网络连接中断，文件未上传，请重试");
  });
})();
