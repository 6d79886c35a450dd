/* Loaded only in the embed layout (templates/base.html, page inside a portal's iframe): tells the portal our
   height so that its iframe fits the page and the visitor never scrolls two boxes. The portal's side is
   static/portal.js; docs/embedding.md describes both.

   The message {type: "zhicheng:resize", height} goes to window.parent with the parent's exact origin as
   targetOrigin — never "*" — and only when that origin is one the tenant allows to frame us (the page lists
   them in <html data-embed-origins>, the same origins as its CSP frame-ancestors). The parent's origin comes
   from location.ancestorOrigins (Chromium, Safari), else from document.referrer (the portal page that loaded
   the iframe), else from the portal's own "zhicheng:hello" message (portal.js sends it on every load of the
   iframe: Firefox has no ancestorOrigins, and after a link inside the iframe the referrer is our own page). */
(function () {
  "use strict";

  if (window.parent === window) return;

  var allowed = (document.documentElement.getAttribute("data-embed-origins") || "").split(/\s+/).filter(Boolean);
  var parentOrigin = null;
  var lastHeight = -1;
  var scheduled = false;

  function permitted(origin) {
    return typeof origin === "string" && allowed.indexOf(origin) >= 0 ? origin : null;
  }

  function originOf(url) {
    try {
      return new URL(url).origin;
    } catch (error) {
      return null;
    }
  }

  function findParentOrigin() {
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length) return permitted(ancestors[0]);
    var referrer = document.referrer ? originOf(document.referrer) : null;
    if (referrer && referrer !== window.location.origin) return permitted(referrer);
    return null;
  }

  function height() {
    // The root element's own height, not scrollHeight: scrollHeight never drops below the iframe's current
    // height, so the iframe could grow but never shrink back.
    var root = document.documentElement;
    return Math.ceil(Math.max(root.getBoundingClientRect().height, document.body ? document.body.scrollHeight : 0));
  }

  function post(force) {
    scheduled = false;
    if (!parentOrigin) return;
    var current = height();
    if (!force && current === lastHeight) return;
    lastHeight = current;
    window.parent.postMessage({ type: "zhicheng:resize", height: current }, parentOrigin);
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(function () {
      post(false);
    });
  }

  // portal.js greets us on every load of the iframe; the browser vouches for event.origin.
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.type !== "zhicheng:hello") return;
    var origin = permitted(event.origin);
    if (!origin) return;
    parentOrigin = origin;
    post(true);
  });

  function start() {
    parentOrigin = parentOrigin || findParentOrigin();
    post(true);
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(schedule);
      observer.observe(document.documentElement);
      if (document.body) observer.observe(document.body);
    }
    window.addEventListener("resize", schedule);
    window.addEventListener("load", schedule);
    // htmx swaps (a form's errors, an upload's result, the queue pane) change the height.
    document.addEventListener("htmx:afterSettle", schedule);
    document.addEventListener("htmx:afterSwap", schedule);
    // <details> opening and images arriving late do too; ResizeObserver catches them where it exists.
    document.addEventListener("toggle", schedule, true);
    document.addEventListener("load", schedule, true);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
