// nhigov reviews: keyboard help for the queue. The pages work without this file.
"use strict";
(function () {
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.review-row"));
  }
  function focusRow(row) {
    if (!row) { return; }
    rows().forEach(function (r) { r.classList.remove("current"); });
    row.classList.add("current");
    var target = row.querySelector("input[name=justification]") || row.querySelector("button, a");
    row.scrollIntoView({ block: "nearest" });
    if (target) { target.focus(); }
  }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key !== "j" && event.key !== "k") { return; }
    var all = rows();
    if (!all.length) { return; }
    var current = document.querySelector("tr.review-row.current");
    var index = current ? all.indexOf(current) : -1;
    index = event.key === "j" ? Math.min(all.length - 1, index + 1) : Math.max(0, index - 1);
    event.preventDefault();
    focusRow(all[index]);
  });
  // After a decision swaps a row in place, move on to the next undecided row.
  document.addEventListener("htmx:afterSwap", function (event) {
    var old = event.detail && event.detail.target;
    // outerHTML swaps replace the target: find the new row by its id.
    var row = old && old.id ? document.getElementById(old.id) : null;
    if (!row || !row.classList.contains("review-row")) { return; }
    if (row.querySelector(".error")) { focusRow(row); return; }
    var next = row.nextElementSibling;
    while (next && !next.classList.contains("status-pending")) { next = next.nextElementSibling; }
    if (next) { focusRow(next); }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var row = event.detail && event.detail.elt && event.detail.elt.closest("tr.review-row");
    if (!row || !xhr) { return; }
    var cell = row.querySelector("td.decision");
    if (!cell) { return; }
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = xhr.status === 403 ? "You may not decide this item." : "Something went wrong (" + xhr.status + "). Reload the page.";
    cell.insertBefore(p, cell.firstChild);
  });
}());
