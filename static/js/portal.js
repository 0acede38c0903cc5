// Job logs show their newest lines: a log box follows its end as it grows, unless the
// reader has scrolled up to read, in which case it stays where they are.
(function () {
  var atEnd = true, scrolled = 0;
  function box() { return document.querySelector("pre.log"); }
  function follow() {
    var pre = box();
    if (pre) pre.scrollTop = atEnd ? pre.scrollHeight : scrolled;
  }
  document.addEventListener("DOMContentLoaded", follow);
  document.addEventListener("htmx:beforeSwap", function () {
    var pre = box();
    if (!pre) return;
    atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    scrolled = pre.scrollTop;
  });
  document.addEventListener("htmx:afterSettle", follow);
})();

// Review before sign-off: a report version's decision forms (fieldset[data-review-gate]) open once
// every page of the report has been seen: its image loaded and its caption, under the page, scrolled
// into view. The server keeps its own account (it refuses a decision until it has served every
// page image to the contact); this only keeps the forms closed until the reader got there.
(function () {
  function start() {
    var gates = document.querySelectorAll("fieldset[data-review-gate][disabled]");
    var figures = document.querySelectorAll("figure[data-review-page]");
    if (!gates.length || !figures.length) return;
    var left = figures.length;

    function open() {
      for (var i = 0; i < gates.length; i++) gates[i].disabled = false;
      var notice = document.querySelector("[data-review-notice]");
      var done = document.querySelector("[data-review-done]");
      if (notice) notice.hidden = true;
      if (done) done.hidden = false;
    }

    function watch(figure) {
      var img = figure.querySelector("img"), caption = figure.querySelector("figcaption");
      var loaded = false, shown = false, counted = false;
      function settle() {
        if (counted || !loaded || !shown) return;
        counted = true;
        figure.classList.add("report-page--seen");
        left -= 1;
        if (left === 0) open();
      }
      function onLoad() {
        if (img.naturalWidth > 0) { loaded = true; settle(); }
      }
      if (img.complete) onLoad();
      img.addEventListener("load", onLoad);
      if (!("IntersectionObserver" in window)) { shown = true; settle(); return; }
      var observer = new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (entries[i].isIntersecting) { shown = true; observer.disconnect(); settle(); }
        }
      });
      observer.observe(caption || img);
    }

    for (var i = 0; i < figures.length; i++) watch(figures[i]);
  }
  document.addEventListener("DOMContentLoaded", start);
})();

// Irreversible actions ask first: a button (or form) with data-confirm says what will happen.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// The quote editor adds up as you type: each line's total, the services, the tax, the cloud
// resources and the total, by the portal's own rules (reports/money.py): a service line is
// person-days x rate x (1 - discount), a cloud line monthly cost x months, each rounded
// half-up to the fen; tax is on the services. Amounts are counted in fen, as integers. The
// server computes again on save; this is what the user will see then.
(function () {
  function fen(value) { return Math.round(value * 100 + 1e-7 * Math.sign(value)); }
  function number(input, fallback) {
    if (!input) return fallback;
    var text = input.value.trim().replace(/,/g, "");
    if (text === "") return fallback;
    var value = Number(text);
    return isFinite(value) ? value : NaN;
  }
  function money(cents) {
    var sign = cents < 0 ? "-" : "", whole = Math.floor(Math.abs(cents) / 100), part = Math.abs(cents) % 100;
    return sign + "¥" + whole.toLocaleString("en-US") + "." + String(part).padStart(2, "0");
  }
  function field(row, name) { return row.querySelector('[name$="-' + name + '"]'); }
  function recompute() {
    var form = document.querySelector('[data-testid="lines-form"]');
    if (!form) return;
    var rates = JSON.parse((document.getElementById("quote-rates") || {}).textContent || "{}");
    var taxInput = document.querySelector('[name="tax_rate"]');
    var taxRate = taxInput ? number(taxInput, NaN) / 100 : Number(form.querySelector("[data-quote-tax]").dataset.quoteTax);
    var services = 0, cloud = 0, broken = false;
    form.querySelectorAll("[data-quote-line]").forEach(function (row) {
      var item = field(row, "item"), cell = row.querySelector("[data-line-total]");
      if (!item || !item.value) { cell.textContent = ""; return; }
      var days = number(field(row, "person_days"), 0), rate = number(field(row, "rate"), Number(rates[item.value] || 0));
      var discount = number(field(row, "discount"), 0) / 100;
      if (isNaN(days) || isNaN(rate) || isNaN(discount)) { cell.textContent = "?"; broken = true; return; }
      var total = fen(days * rate * (1 - discount));
      services += total;
      cell.textContent = money(total);
    });
    form.querySelectorAll("[data-cloud-line]").forEach(function (row) {
      var cell = row.querySelector("[data-line-total]"), cost = number(field(row, "monthly_cost"), null);
      if (cost === null) { cell.textContent = ""; return; }
      var months = number(field(row, "months"), 1);
      if (isNaN(cost) || isNaN(months)) { cell.textContent = "?"; broken = true; return; }
      var total = fen(cost * months);
      cloud += total;
      cell.textContent = money(total);
    });
    var tax = isNaN(taxRate) ? NaN : Math.round(services * taxRate + 1e-7);
    var shown = {services: money(services), cloud: money(cloud), tax: isNaN(tax) ? "?" : money(tax),
                 total: (broken || isNaN(tax)) ? "?" : money(services + tax + cloud)};
    Object.keys(shown).forEach(function (key) {
      var target = document.querySelector('[data-live="' + key + '"]');
      if (target) target.textContent = shown[key];
    });
    var note = document.querySelector('[data-testid="totals-note"]');
    if (note) note.hidden = false;
  }
  document.addEventListener("input", function (event) {
    if (event.target.closest('[data-testid="lines-form"]') || event.target.name === "tax_rate") recompute();
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest('[data-testid="lines-form"]')) recompute();
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector('[data-testid="lines-form"]')) {
      recompute();
      var note = document.querySelector('[data-testid="totals-note"]');
      if (note) note.hidden = true;
    }
  });
})();
