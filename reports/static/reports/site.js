/* OutageHub's one script. The pages work without it; with it:
 *  - times read in the visitor's time zone (the server writes UTC, marked "UTC");
 *  - a report button confirms in place, without a page load;
 *  - the service and outage pages refresh their verdict, numbers and chart every minute from the
 *    public API, revalidating with If-None-Match so an unchanged answer is a bodiless 304.
 * No inline script or style anywhere (the Content-Security-Policy forbids both), no other host.
 */
(function () {
  "use strict";

  var REFRESH_MS = 60 * 1000;
  var SVG = "http://www.w3.org/2000/svg";

  // --- times in the visitor's time zone ---------------------------------------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function zoneName(date) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "timeZoneName") return parts[i].value;
    } catch (e) { /* an old browser: no zone name */ }
    return "";
  }

  function clock(date) { return pad(date.getHours()) + ":" + pad(date.getMinutes()); }

  function day(date) { return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()); }

  /** "2026-11-20 16:05 CET" (or "16:05 CET" for a time-only element), as the server's UTC text is styled. */
  function localText(date, timeOnly) {
    var text = (timeOnly ? "" : day(date) + " ") + clock(date);
    var zone = zoneName(date);
    return zone ? text + " " + zone : text;
  }

  function localizeTimes(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      if (el.hasAttribute("data-local") || !/UTC$/.test(el.textContent)) continue;
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) continue;
      el.title = el.textContent; // the UTC text stays one hover away
      el.textContent = localText(date, /^\d\d:\d\d UTC$/.test(el.textContent));
      el.setAttribute("data-local", "");
    }
    var ticks = root.querySelectorAll(".x-axis text[data-at]");
    for (var j = 0; j < ticks.length; j++) ticks[j].textContent = tickLabel(new Date(ticks[j].getAttribute("data-at")), null);
    var notes = root.querySelectorAll("[data-tz-note]");
    for (var k = 0; k < notes.length; k++) {
      var local = notes[k].getAttribute("data-text-local");
      if (local) notes[k].textContent = local + " (" + zoneName(new Date()) + ").";
    }
  }

  function tickLabel(date, stepMs) {
    var midnight = date.getHours() === 0 && date.getMinutes() === 0;
    if ((stepMs && stepMs >= 864e5) || midnight) {
      return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
    }
    return clock(date);
  }

  // --- API reads with ETag revalidation ------------------------------------------------------

  var etags = {};

  /** The JSON at `url`, or null when it has not changed since the last read (304) or failed. */
  function getFresh(url) {
    var headers = { Accept: "application/json" };
    if (etags[url]) headers["If-None-Match"] = etags[url];
    // no-store: the browser cache neither answers nor revalidates on its own; the ETag is ours to send.
    return fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (r.status === 304 || !r.ok) return null;
      var etag = r.headers.get("ETag");
      if (etag) etags[url] = etag;
      return r.json();
    }).catch(function () { return null; });
  }

  // --- the chart, redrawn from the API's series (reports/web/charts.py, the same geometry) ----

  var X_STEPS = [15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 43200].map(function (m) { return m * 6e4; });

  function niceScale(highest, maxTicks) {
    for (var magnitude = 1; ; magnitude *= 10) {
      var factors = [1, 2, 5];
      for (var i = 0; i < factors.length; i++) {
        var step = factors[i] * magnitude;
        if (Math.ceil(highest / step) <= maxTicks) return [Math.max(step * Math.ceil(highest / step), step), step];
      }
    }
  }

  function r1(v) { return Math.round(v * 10) / 10; }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** [index, value] points split into runs of consecutive indexes (a gap breaks a line). */
  function runsOf(points) {
    var runs = [];
    points.forEach(function (p) {
      var last = runs[runs.length - 1];
      if (last && last[last.length - 1][0] === p[0] - 1) last.push(p); else runs.push([p]);
    });
    return runs;
  }

  /** SVG path data of a step line along a run of [index, y]: a flat segment per bucket. */
  function runPath(run, edges) {
    var d = "M" + r1(edges[run[0][0]][0]) + " " + run[0][1];
    run.forEach(function (p, n) { d += (n ? "V" + p[1] : "") + "H" + r1(edges[p[0]][1]); });
    return d;
  }

  function bandPath(run, edges) {
    var d = runPath(run.map(function (p) { return [p[0], p[1][0]]; }), edges);
    for (var n = run.length - 1; n >= 0; n--) d += "V" + run[n][1][1] + "H" + r1(edges[run[n][0]][0]);
    return d + "Z";
  }

  function drawChart(figure, series) {
    var svg = figure.querySelector("svg.chart-svg");
    var left = +svg.getAttribute("data-left"), right = +svg.getAttribute("data-right");
    var top = +svg.getAttribute("data-top"), bottom = +svg.getAttribute("data-bottom");
    var buckets = series.buckets, n = buckets.length;
    if (!n) return;
    var since = Date.parse(series.since), until = Date.parse(series.until);
    var slot = (right - left) / n, highest = 1;
    buckets.forEach(function (b) {
      highest = Math.max(highest, b.count, b.expected === null ? 0 : b.expected, b.band ? b.band[1] : 0);
    });
    var scale = niceScale(highest, 4), yMax = scale[0];
    function y(v) { return r1(bottom - (bottom - top) * v / yMax); }
    function x(t) { return r1(left + (right - left) * (t - since) / (until - since)); }

    var bars = svg.querySelector("g.bars");
    bars.textContent = "";
    var edges = [], expected = [], band = [];
    buckets.forEach(function (b, i) {
      edges.push([left + i * slot, left + (i + 1) * slot]);
      if (b.expected !== null) expected.push([i, y(b.expected)]);
      if (b.band) band.push([i, [y(b.band[1]), y(b.band[0])]]);
      var start = new Date(b.start), top_ = y(b.count);
      var rect = el("rect", {
        "class": "bar level-" + (b.level || "none"), x: r1(left + i * slot + slot * 0.1), y: top_,
        width: r1(slot * 0.8), height: r1(bottom - top_), "data-start": b.start.replace(".000", ""),
        "data-count": b.count, "data-expected": b.expected === null ? null : b.expected,
        "data-band": b.band ? b.band[0] + " " + b.band[1] : null
      });
      rect.appendChild(el("title", {}, localText(start, false) + ": " + b.count +
        (b.expected === null ? "" : " (" + b.expected.toFixed(1) + ")")));
      bars.appendChild(rect);
    });
    setPath(svg, "band", runsOf(band).map(function (run) { return bandPath(run, edges); }).join(" "), bars);
    setPath(svg, "expected", runsOf(expected).map(function (run) { return runPath(run, edges); }).join(" "), bars.nextSibling);

    var grid = svg.querySelector("g.y-grid"), labels = svg.querySelector("g.y-axis");
    grid.textContent = ""; labels.textContent = "";
    for (var v = 0; v <= yMax; v += scale[1]) {
      grid.appendChild(el("line", { x1: left, x2: right, y1: y(v), y2: y(v) }));
      if (v) labels.appendChild(el("text", { x: left, dx: 2, y: y(v), dy: "-0.35em" }, String(v)));
    }
    var axis = svg.querySelector("g.x-axis"), baseline = axis.querySelector("line");
    axis.textContent = ""; axis.appendChild(baseline);
    var span = until - since, step = X_STEPS[X_STEPS.length - 1];
    for (var s = 0; s < X_STEPS.length; s++) if (span / X_STEPS[s] <= 8) { step = X_STEPS[s]; break; }
    for (var t = Math.ceil(since / step) * step; t <= until; t += step) {
      axis.appendChild(el("line", { "class": "tick", x1: x(t), x2: x(t), y1: top, y2: bottom }));
      var anchor = x(t) - left < 30 ? "start" : right - x(t) < 30 ? "end" : "middle"; // as charts.py's _anchor
      axis.appendChild(el("text", { x: x(t), y: bottom, dy: "1.1em", "text-anchor": anchor,
        "data-at": new Date(t).toISOString() }, tickLabel(new Date(t), step)));
    }
    var highlight = svg.querySelector("rect.highlight");
    if (highlight) {
      var from = Math.max(Date.parse(highlight.getAttribute("data-start")), since);
      var to = Math.min(highlight.getAttribute("data-end") ? Date.parse(highlight.getAttribute("data-end")) : until, until);
      highlight.setAttribute("x", x(from));
      highlight.setAttribute("width", r1(Math.max(x(to) - x(from), 0)));
    }
    var markers = svg.querySelectorAll("g.marker[data-at]");
    for (var m = 0; m < markers.length; m++) {
      var mx = x(Date.parse(markers[m].getAttribute("data-at")));
      var line = markers[m].querySelector("line"), circle = markers[m].querySelector("circle"), label = markers[m].querySelector("text");
      line.setAttribute("x1", mx); line.setAttribute("x2", mx); circle.setAttribute("cx", mx); label.setAttribute("x", mx);
    }
    figure.setAttribute("data-since", series.since);
    figure.setAttribute("data-until", series.until);
    var title = svg.querySelector(":scope > title"), total = 0, peak = 0;
    buckets.forEach(function (b) { total += b.count; peak = Math.max(peak, b.count); });
    if (title) title.textContent = svg.getAttribute("data-summary").replace("%(total)s", total).replace("%(peak)s", peak);
    drawTable(figure, buckets);
  }

  function setPath(svg, cls, d, before) {
    var path = svg.querySelector("path." + cls);
    if (!d) { if (path) path.remove(); return; }
    if (!path) { path = el("path", { "class": cls }); before.parentNode.insertBefore(path, before); }
    path.setAttribute("d", d);
  }

  /** The chart's text alternative, rewritten with the same numbers. */
  function drawTable(figure, buckets) {
    var body = figure.querySelector(".chart-data tbody");
    if (!body) return;
    var table = body.parentNode;
    body.textContent = "";
    buckets.forEach(function (b) {
      var row = document.createElement("tr");
      row.className = "level-" + (b.level || "none");
      var head = document.createElement("th");
      head.scope = "row";
      head.textContent = localText(new Date(b.start), false);
      row.appendChild(head);
      [String(b.count), b.expected === null ? "" : b.expected.toFixed(1), b.band ? b.band[0] + "–" + b.band[1] : "",
        table.getAttribute("data-level-" + (b.level || "none")) || ""].forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
  }

  /** The chart's window now: 24 hours sliding to the current bucket, or an ongoing outage's growing to it. */
  function seriesUrl(base, figure) {
    var size = +figure.getAttribute("data-bucket-seconds") * 1000;
    var since = Date.parse(figure.getAttribute("data-since")), until = Date.parse(figure.getAttribute("data-until"));
    var end = Math.max(Math.floor(Date.now() / size) * size + size, until);
    var from = figure.getAttribute("data-live-window") === "slide" ? since + (end - until) : since;
    var bucket = { 60: "1m", 900: "15m", 3600: "1h", 86400: "1d" }[size / 1000];
    return base + "?bucket=" + bucket + "&since=" + new Date(from).toISOString() + "&until=" + new Date(end).toISOString();
  }

  // --- the verdict and numbers ------------------------------------------------------------

  function updateService(root, detail) {
    var verdict = root.querySelector("[data-verdict]");
    if (verdict) {
      verdict.className = verdict.className.replace(/status-\w+/, "status-" + detail.status);
      verdict.querySelector("[data-verdict-headline]").textContent = verdict.getAttribute("data-text-" + detail.status);
      var since = verdict.querySelector("[data-verdict-since]");
      if (!since) {
        since = document.createElement("span");
        since.setAttribute("data-verdict-since", "");
        var headline = verdict.querySelector("[data-verdict-headline]");
        headline.parentNode.insertBefore(since, headline.nextSibling);
      }
      since.textContent = detail.status !== "ok" && detail.status_since
        ? " " + verdict.getAttribute("data-text-since") + " " + localText(new Date(detail.status_since), Date.now() - Date.parse(detail.status_since) < 12 * 36e5) : "";
      var labels = {};
      detail.issue_types.forEach(function (t) { labels[t.key] = t.label.toLowerCase(); });
      var named = detail.problems.filter(function (p) { return p.count > 0; }).slice(0, 2).map(function (p) { return labels[p.key] || p.key; });
      var parts = [];
      if (detail.status !== "ok" && named.length) parts.push(verdict.getAttribute("data-text-users").replace("%s", named.join(verdict.getAttribute("data-text-and"))));
      if (detail.status !== "ok" && verdict.getAttribute("data-probes") === "down") parts.push(verdict.getAttribute("data-text-confirm"));
      verdict.querySelector("[data-verdict-detail]").textContent = parts.length ? " — " + parts.join("; ") : "";
      var probes = verdict.getAttribute("data-probes"), evidence = "reports";
      if (detail.status === "ok") evidence = probes === "up" ? "both" : probes === "down" ? "probes" : "reports";
      else if (probes === "down") evidence = named.length ? "both" : "probes";
      else evidence = verdict.getAttribute("data-outage-evidence") || "reports"; // what the open outage rests on
      setText(verdict, "[data-testid=evidence]", verdict.querySelector("[data-testid=evidence]").getAttribute("data-text-" + evidence));
      setText(verdict, "[data-n-actual]", detail.actual);
      setText(verdict, "[data-n-expected]", detail.expected.toFixed(1));
    }
    setText(root, "[data-testid=count-15m]", detail.reports.last_15_minutes);
    setText(root, "[data-testid=count-24h]", detail.reports.last_24_hours);
  }

  function updateProbes(root, list) {
    var states = (list.results || list).map(function (p) { return p.state; });
    var verdict = root.querySelector("[data-verdict]");
    if (verdict) {
      verdict.setAttribute("data-probes", states.indexOf("down") >= 0 ? "down"
        : states.some(function (s) { return s === "up" || s === "degraded"; }) ? "up" : "none");
    }
  }

  function setText(root, selector, value) {
    var node = root.querySelector(selector);
    if (node) node.textContent = String(value);
  }

  function stamp(root) {
    var note = root.querySelector("[data-live-note]");
    if (!note) return;
    note.hidden = false;
    note.textContent = (note.getAttribute("data-text") || "Updated") + " " + localText(new Date(), true);
  }

  function refresh(root) {
    var jobs = [];
    var figure = root.querySelector("[data-chart]");
    var probes = root.getAttribute("data-api-probes");
    if (probes) jobs.push(getFresh(probes).then(function (list) { if (list) updateProbes(root, list); }));
    var service = root.getAttribute("data-api-service");
    if (service) jobs.push(Promise.all(jobs.slice()).then(function () { return getFresh(service); })
      .then(function (detail) { if (detail) updateService(root, detail); }));
    var series = root.getAttribute("data-api-series");
    if (series && figure && figure.hasAttribute("data-live-window")) {
      var asked = ++drawn; // a slow answer to an older poll must not draw over a newer one
      jobs.push(getFresh(seriesUrl(series, figure)).then(function (s) { if (s && asked === drawn) drawChart(figure, s); }));
    }
    var done = Promise.all(jobs).then(function () { stamp(root); });
    inflight = Promise.all([inflight, done]);
    return done;
  }

  var inflight = Promise.resolve(), drawn = 0;

  function startLive() {
    var roots = document.querySelectorAll("[data-api-series]");
    Array.prototype.forEach.call(roots, function (root) {
      window.setInterval(function () { if (!document.hidden) refresh(root); }, REFRESH_MS);
      root.addEventListener("outagehub:reported", function () { refresh(root); });
    });
  }

  // --- report buttons that confirm in place -------------------------------------------------

  function startReports() {
    var forms = document.querySelectorAll("form[data-report-form]");
    Array.prototype.forEach.call(forms, function (form) {
      var result = form.querySelector("[data-report-result]");
      if (result) { result.hidden = false; result.textContent = ""; }
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        if (!button || !result || !window.fetch || form.hasAttribute("data-plain")) return; // the plain form post
        event.preventDefault();
        var body = new FormData(form);
        body.set(button.name, button.value);
        button.setAttribute("aria-busy", "true");
        fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (answer) {
            result.className = "report-result " + (answer.kind || "error");
            result.textContent = answer.message;
            if (answer.kind !== "error") {
              form.querySelector("textarea").value = "";
              form.dispatchEvent(new CustomEvent("outagehub:reported", { bubbles: true }));
            }
          })
          .catch(function () { // no answer in JSON (a lost connection, a proxy's page): post it the plain way
            form.setAttribute("data-plain", "");
            form.requestSubmit(button);
          })
          .then(function () { button.removeAttribute("aria-busy"); });
      });
    });
  }

  // --- instant search on the home page: filter the list as one types (the form still searches the server) ---

  function startFilter() {
    var list = document.querySelector("[data-service-list]"), input = document.getElementById("q");
    var note = document.querySelector("[data-filter-result]");
    if (!list || !input || !note) return;
    var items = list.querySelectorAll("li[data-name]");
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase(), shown = 0;
      Array.prototype.forEach.call(items, function (item) {
        var match = !query || item.getAttribute("data-name").indexOf(query) >= 0;
        item.hidden = !match;
        if (match) shown++;
      });
      note.hidden = !query;
      note.textContent = query ? note.getAttribute("data-text").replace("%(shown)s", shown)
        .replace("%(total)s", items.length).replace("%(query)s", input.value.trim()) : "";
    });
  }

  function start() {
    localizeTimes(document);
    startFilter();
    startReports();
    startLive();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();

  // For the page tests: a promise settled once every refresh started so far has finished.
  window.OutageHub = { settled: function () { return inflight; } };
})();
