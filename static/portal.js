/* 职称电子证书平台 — the script a portal includes next to its iframes of our pages (docs/embedding.md):

     <script src="https://<our host>/static/portal.js" defer></script>
     <iframe data-zhicheng src="https://<our host>/t/<tenant>/?embed=1" title="…" width="100%" height="640"></iframe>

   It sizes every iframe[data-zhicheng] to the height its page reports. A message is believed only when it
   comes from that very iframe (event.source === iframe.contentWindow) at our origin (event.origin === the
   origin of the iframe's src) and has the expected shape; the height is kept within 200–10000 px. On every
   load of an iframe it greets the page ("zhicheng:hello", sent to our origin only) so that the page learns
   the portal's origin in browsers that do not tell it, and after a navigation inside the iframe it brings the
   iframe's top into view if the visitor had scrolled past it. No dependencies, no other effect. */
(function () {
  "use strict";

  var MIN_HEIGHT = 200;
  var MAX_HEIGHT = 10000;
  var SELECTOR = "iframe[data-zhicheng]";

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll(SELECTOR));
  }

  function originOf(frame) {
    try {
      return new URL(frame.getAttribute("src") || "", window.location.href).origin;
    } catch (error) {
      return null;
    }
  }

  // Still the initial about:blank (same origin as the portal): nothing of ours to greet yet.
  function showsOurPage(frame) {
    try {
      void frame.contentWindow.location.href;
      return false;
    } catch (error) {
      return true;
    }
  }

  function greet(frame) {
    var origin = originOf(frame);
    if (!origin || origin === "null" || !frame.contentWindow) return;
    // targetOrigin is our origin: if the iframe shows anything else, the browser drops the message.
    frame.contentWindow.postMessage({ type: "zhicheng:hello" }, origin);
  }

  function prepare(frame) {
    if (frame.hasAttribute("data-zhicheng-ready")) return;
    frame.setAttribute("data-zhicheng-ready", "");
    if (!frame.style.border) frame.style.border = "0";
    if (!frame.style.display) frame.style.display = "block";
    if (!frame.style.width) frame.style.width = "100%";
    var loads = 0;
    frame.addEventListener("load", function () {
      loads += 1;
      greet(frame);
      // A link or a form inside the iframe opened a new page: show its top, not the middle of it.
      if (loads > 1 && frame.getBoundingClientRect().top < 0) frame.scrollIntoView({ block: "start" });
    });
    if (frame.contentWindow && showsOurPage(frame)) greet(frame); // loaded before this script ran
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "zhicheng:resize") return;
    var height = data.height;
    if (typeof height !== "number" || !isFinite(height)) return;
    frames().forEach(function (frame) {
      if (event.source !== frame.contentWindow || event.origin !== originOf(frame)) return;
      prepare(frame); // an iframe the portal added after this script ran
      var bounded = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(height)));
      frame.style.height = bounded + "px";
    });
  });

  function start() {
    frames().forEach(prepare);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
