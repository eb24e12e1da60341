// nhigov: small progressive enhancements. Pages work without this file.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("htmx:responseError", function (event) {
  var target = document.getElementById("results");
  if (target && event.detail && event.detail.xhr) {
    target.setAttribute("aria-busy", "false");
  }
});

// "Tick every row on this page" for the inventory's bulk actions.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box || !box.matches || !box.matches("input[data-select-all]")) { return; }
  var name = box.getAttribute("data-select-all");
  document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (row) {
    row.checked = box.checked;
  });
});

// Keep shareable URLs short: a GET from a filter form leaves out the fields left empty.
document.addEventListener("htmx:configRequest", function (event) {
  var detail = event.detail;
  if (!detail || String(detail.verb).toLowerCase() !== "get") { return; }
  var data = detail.formData;
  if (!data || typeof data.keys !== "function") { return; }
  var empty = [];
  Array.from(new Set(Array.from(data.keys()))).forEach(function (key) {
    if (data.getAll(key).every(function (value) { return value === ""; })) { empty.push(key); }
  });
  empty.forEach(function (key) {
    data.delete(key);
    if (detail.parameters) { try { delete detail.parameters[key]; } catch (e) { /* read-only */ } }
  });
});
