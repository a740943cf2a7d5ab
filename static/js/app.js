// Keep keyboard and screen-reader users in place. The only script the site runs, served
// from our own origin so the Content Security Policy stays strict.
(function () {
  "use strict";

  function focusFirst(root) {
    // An error summary first, so the problem is read out; otherwise the region's heading.
    var target = root.querySelector(".error-summary") || root.querySelector("h2, caption, table") || root;
    if (!target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      focusFirst(summary.parentNode);
    }
  });

  // When htmx replaces the part of the page that held the focus (a pager button, say),
  // focus would fall back to the page itself; move it to the new content instead.
  document.addEventListener("htmx:afterSwap", function (event) {
    // A live region (a report's progress) is read out where it is: focus stays put.
    if (event.target.closest && event.target.closest("[aria-live]")) {
      return;
    }
    var active = document.activeElement;
    if (!active || active === document.body || !document.contains(active)) {
      focusFirst(event.detail.target);
    }
  });
})();
