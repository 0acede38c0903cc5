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

// Loss charts drawn with dygraphs (static/vendor/dygraph-<version>.min.js, loaded on the first
// page that has a chart): each chart is an element [data-dygraph="<key>"] holding its points,
// already down-sampled on the server (assessments/charts.py, the same points as the SVG), in a
// json_script, and the server's SVG in [data-dygraph-fallback], shown until the graph replaces
// it (and for good without JS, or if the library fails to load). A "loss" chart is the NPU
// curve and the GPU reference on one chart and the relative error (%) with the threshold on a
// small one beneath, zoomed together; a "curve" chart is one curve. When htmx swaps in a new
// copy of a chart (the live fragment, every poll), the graph already drawn under that key is
// moved into it and given the new points, before the browser paints: no flicker, zoom kept.
(function () {
  var NONCE = document.currentScript ? document.currentScript.nonce : "";
  var graphs = {};  // key -> {wrap, main, error}
  var loading = false;

  function esc(text) {
    return String(text == null ? "" : text).replace(/&/g, "&amp;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function load(el) {
    if (window.Dygraph || loading || !el.dataset.dygraphSrc) return;
    loading = true;
    if (el.dataset.dygraphCss) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = el.dataset.dygraphCss;
      document.head.appendChild(link);
    }
    var script = document.createElement("script");
    script.src = el.dataset.dygraphSrc;
    if (NONCE) script.nonce = NONCE;
    script.onload = function () {
      // dygraphs' legend writes inline style attributes, which the CSP refuses: ours (legend()) does not.
      window.Dygraph.PLUGINS = window.Dygraph.PLUGINS.filter(function (p) { return p !== window.Dygraph.Plugins.Legend; });
      drawAll(document);
    };
    document.head.appendChild(script);
  }
  // Two sorted [[x, y], ...] series as dygraphs rows [x, a, b] (null where a series has no point).
  function merge(a, b) {
    var rows = [], i = 0, j = 0;
    while (i < a.length || j < b.length) {
      var xa = i < a.length ? a[i][0] : Infinity, xb = j < b.length ? b[j][0] : Infinity;
      if (xa === xb) rows.push([xa, a[i++][1], b[j++][1]]);
      else if (xa < xb) rows.push([xa, a[i++][1], null]);
      else rows.push([xb, null, b[j++][1]]);
    }
    return rows;
  }
  function percent(value) { return (+value.toPrecision(3)) + "%"; }
  function number(value) { return value == null ? "" : (+value.toPrecision(5)).toLocaleString(); }

  // A legend under a graph (swatches coloured through the CSSOM, names as text) and, while the
  // mouse is over the graph, the values at the step under it.
  function legend(box, names, colours, patterns) {
    box.textContent = "";
    for (var i = 1; i < names.length; i++) {
      var item = document.createElement("span"), swatch = document.createElement("span");
      item.className = "chart-legend-item";
      swatch.style.display = "inline-block";
      swatch.style.width = "22px";
      swatch.style.margin = "0 4px 3px 10px";
      swatch.style.borderTop = "2px " + (patterns[i] ? "dashed " : "solid ") + colours[i - 1];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(names[i]));
      box.appendChild(item);
    }
    var readout = document.createElement("span");
    readout.className = "chart-legend-readout muted";
    readout.style.marginLeft = "12px";
    box.appendChild(readout);
    return readout;
  }
  function hover(readout, stepLabel, format) {
    return {
      highlightCallback: function (event, x, points) {
        var parts = [stepLabel + " " + Math.round(x).toLocaleString()];
        points.forEach(function (p) { if (p.yval != null && !isNaN(p.yval)) parts.push(p.name + " " + format(p.yval)); });
        readout.textContent = parts.join(" · ");
      },
      unhighlightCallback: function () { readout.textContent = ""; },
    };
  }

  // What to draw: a list of {rows, options} (the main chart first), or null when there is no point.
  function charts(data, width, height) {
    var labels = data.labels || {}, common = {width: width, connectSeparatedPoints: true, legend: "always",
      xlabel: esc(labels.step), axes: {x: {axisLabelFormatter: function (v) { return Math.round(v).toLocaleString(); }}}};
    if (data.kind === "curve") {
      if (!data.curve.length) return null;
      return [{rows: data.curve, options: Object.assign({}, common, {height: height, legend: "onmouseover",
        labels: [labels.step, labels.loss], ylabel: "", xlabel: "", colors: ["#c7000b"], strokeWidth: 1.2})}];
    }
    var npu = data.npu, ref = data.reference;
    if (!npu.length && !ref.length) return null;
    var names = [labels.step], series = {}, colours = [], rows;
    if (npu.length && ref.length) rows = merge(npu, ref);
    else rows = (npu.length ? npu : ref).map(function (p) { return [p[0], p[1]]; });
    if (npu.length) {
      names.push(labels.npu);
      colours.push(data.colours.npu);
      series[labels.npu] = {strokeWidth: data.widths.npu};
    }
    if (ref.length) {
      names.push(labels.reference);
      colours.push(data.colours.reference);
      series[labels.reference] = {strokeWidth: data.widths.reference, strokePattern: data.dashes.reference};
    }
    var first = rows[0][0], last = rows[rows.length - 1][0];
    var threshold = data.threshold, err = data.error, errRows, errNames = [labels.step, labels.error];
    var errSeries = {}, errColours = [data.colours.error], top = 0;
    err.forEach(function (p) { if (p[1] > top) top = p[1]; });
    if (threshold != null) {
      errNames.push(labels.threshold);
      errColours.push(data.colours.threshold);
      errSeries[labels.threshold] = {strokeWidth: 1.3, strokePattern: data.dashes.threshold};
      errRows = err.map(function (p) { return [p[0], p[1], threshold]; });
      if (!errRows.length || errRows[0][0] > first) errRows.unshift([first, null, threshold]);
      if (errRows[errRows.length - 1][0] < last) errRows.push([last, null, threshold]);
      top = Math.max(top, threshold * 1.25);
    } else {
      errRows = err.map(function (p) { return [p[0], p[1]]; });
      if (!errRows.length) errRows = [[first, null], [last, null]];
    }
    var percentAxis = {valueFormatter: function (v) { return v == null ? "" : v.toFixed(2) + "%"; },
                       axisLabelFormatter: percent};
    return [
      {rows: rows, options: Object.assign({}, common, {height: height, labels: names, colors: colours,
        series: series, ylabel: esc(labels.loss)})},
      {rows: errRows, options: Object.assign({}, common, {height: Math.round(height / 2), labels: errNames,
        colors: errColours, series: errSeries, ylabel: esc(labels.error), strokeWidth: 1.1,
        valueRange: [0, (top || 1) * 1.05], axes: {x: common.axes.x, y: percentAxis}})},
    ];
  }

  // The legend of one graph, and the options showing the values under the mouse in it.
  function decorate(chart, box, stepLabel, index) {
    var o = chart.options, names = o.labels, series = o.series || {};
    var patterns = names.map(function (name) { return series[name] && series[name].strokePattern; });
    var readout = legend(box, names, o.colors, patterns);
    return hover(readout, stepLabel, index > 0 ? function (v) { return v.toFixed(2) + "%"; } : number);
  }

  function draw(el) {
    if (el.dataset.drawn || !window.Dygraph) return;
    var json = el.querySelector('script[type="application/json"]');
    var fallback = el.querySelector("[data-dygraph-fallback]");
    if (!json) return;
    var data = JSON.parse(json.textContent);
    var width = Math.min(+el.dataset.width || 640, el.clientWidth || +el.dataset.width || 640);
    var built = charts(data, width, +el.dataset.height || 220);
    var stepLabel = (data.labels || {}).step || "";
    var key = el.dataset.dygraph, entry = graphs[key];
    el.dataset.drawn = "true";
    if (!built) {  // nothing to draw: the SVG says so
      if (entry) entry.wrap.hidden = true;
      if (fallback) fallback.hidden = false;
      return;
    }
    if (entry && entry.list.length !== built.length) { entry.wrap.remove(); entry = null; }
    if (entry) {
      if (entry.wrap.parentNode !== el) el.appendChild(entry.wrap);
      entry.wrap.hidden = false;
      built.forEach(function (chart, i) {
        var options = Object.assign({file: chart.rows}, chart.options, decorate(chart, entry.legends[i], stepLabel, i));
        if (i > 0) options.dateWindow = entry.list[0].xAxisRange();
        entry.list[i].updateOptions(options);
      });
    } else {
      var wrap = document.createElement("div");
      wrap.className = "dygraph-charts";
      el.appendChild(wrap);
      entry = graphs[key] = {wrap: wrap, list: [], legends: []};
      built.forEach(function (chart, i) {
        var div = document.createElement("div"), box = document.createElement("div");
        box.className = "chart-legend";
        wrap.appendChild(div);
        wrap.appendChild(box);
        entry.legends.push(box);
        var options = Object.assign({}, chart.options, decorate(chart, box, stepLabel, i));
        entry.list.push(new window.Dygraph(div, chart.rows, options));
      });
      if (entry.list.length > 1) {
        var sync = entry.list;
        sync[0].updateOptions({zoomCallback: function (minX, maxX) {
          for (var i = 1; i < sync.length; i++) sync[i].updateOptions({dateWindow: [minX, maxX]});
        }}, true);
      }
    }
    if (fallback) fallback.hidden = true;
    el.dataset.drawnPoints = data.kind === "curve" ? data.curve.length : data.npu.length + data.reference.length + data.error.length;
    el.dataset.drawnSeries = entry.list.reduce(function (n, g) { return n + g.numColumns() - 1; }, 0);
  }
  function drawAll(root) {
    var found = (root || document).querySelectorAll("[data-dygraph]");
    if (!found.length) return;
    if (!window.Dygraph) { load(found[0]); return; }
    for (var i = 0; i < found.length; i++) draw(found[i]);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // afterSwap comes before the browser paints the new content; afterSettle finds anything left.
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.detail.target); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.detail.elt); });
})();
