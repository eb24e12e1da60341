// nhigov: small progressive enhancements. Pages work without this file.
"use strict";
document.addEventListener("htmx:responseError", function (event) {
  var target = document.getElementById("results");
  if (target && event.detail && event.detail.xhr) {
    target.setAttribute("aria-busy", "false");
  }
});
