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
