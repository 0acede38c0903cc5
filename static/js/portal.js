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
