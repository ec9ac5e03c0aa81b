// sorg report page: claims' evidence, protocols compared task by task, and the trial reader,
// drawn from the data embedded in the page. The trial index and each chunk of trial detail are
// gzipped JSON in inert blocks, inflated only when needed. Data is only ever inserted as text.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sorg-data").textContent);
  var LABELS = { model: "model", protocol: "protocol", n_agents: "team size", level: "level", stream: "stream" };
  var METRICS = ["cost_usd", "tokens", "calls", "answer_chars"];
  var PAGE = 200;
  var trials = [];            // one object per trial, from the index
  var byId = {};
  var sel = {};               // filter field -> {value: true}
  var focus = null;           // {field: [values]} from a claim's unit link
  var sortKey = "trial_id", sortDir = 1, shown = PAGE, cmp = { protocols: [], metric: "", task: null, sort: 0, dir: 1 };
  var chunks = {};
  data.filters.forEach(function (f) { sel[f] = {}; });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function svgEl(tag, attrs) {
    var n = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (k) { if (k === "text") n.textContent = attrs[k]; else n.setAttribute(k, attrs[k]); });
    return n;
  }
  function num(x, digits) {
    if (x === null || x === undefined || typeof x !== "number" || !isFinite(x)) return "-";
    if (x !== 0 && Math.abs(x) < Math.pow(10, -digits)) return x.toExponential(1);
    return x.toFixed(digits);
  }
  function show(x) {
    if (typeof x === "number") return Number.isInteger(x) ? String(x) : num(x, 3);
    if (x === null || x === undefined) return "-";
    if (typeof x === "object") return JSON.stringify(x);
    return String(x);
  }
  function inflate(id) {
    var b64 = document.getElementById(id).textContent, bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }
  function detailOf(t) {
    var c = Math.floor(t._i / data.chunk);
    if (!chunks[c]) chunks[c] = inflate("sorg-chunk-" + c);
    return chunks[c].then(function (arr) { return arr[t._i % data.chunk]; });
  }
  function metricOf(t, m) { return m.indexOf("quality.") === 0 ? t.quality[m.slice(8)] : t[m]; }
  function mean(xs) { xs = xs.filter(function (x) { return typeof x === "number" && isFinite(x); }); return xs.length ? xs.reduce(function (a, b) { return a + b; }, 0) / xs.length : null; }

  // ------------------------------------------------------------------ filters
  function matches(t) {
    var ok = data.filters.every(function (f) { var s = sel[f]; return !Object.keys(s).length || s[String(t[f])]; });
    if (ok && focus) ok = Object.keys(focus).every(function (f) { return focus[f].map(String).indexOf(String(t[f])) >= 0; });
    return ok;
  }
  function distinct(f) {
    var seen = {};
    trials.forEach(function (t) { seen[String(t[f])] = t[f]; });
    return Object.keys(seen).map(function (k) { return seen[k]; }).sort(function (a, b) {
      return (typeof a === "number" && typeof b === "number") ? a - b : String(a).localeCompare(String(b));
    });
  }
  function buildFilters() {
    var box = document.getElementById("filters");
    data.filters.forEach(function (f) {
      var fs = el("fieldset", { id: "filter-" + f, "data-filter": f }, [el("legend", { text: LABELS[f] || f })]);
      distinct(f).forEach(function (v) {
        var cb = el("input", { type: "checkbox", value: String(v) });
        cb.addEventListener("change", function () {
          if (cb.checked) sel[f][cb.value] = true; else delete sel[f][cb.value];
          shown = PAGE; render();
        });
        fs.appendChild(el("label", {}, [cb, " " + String(v)]));
      });
      box.appendChild(fs);
    });
  }
  function setFocus(f) {
    focus = f;
    var p = document.getElementById("focus");
    p.textContent = "";
    p.classList.toggle("hidden", !f);
    if (f) {
      p.appendChild(document.createTextNode("showing only " + Object.keys(f).map(function (k) { return k + " " + f[k].join(", "); }).join("; ")));
      var b = el("button", { text: "show all", type: "button" });
      b.addEventListener("click", function () { setFocus(null); render(); });
      p.appendChild(b);
    }
  }

  // ------------------------------------------------------------------ claims: evidence
  function forest(c, ev) {
    var units = ev.units.concat(ev.unmatched_units || []), W = 640, rowH = 16, left = 150, top = 18;
    var vals = [ev.null];
    units.forEach(function (u) { if (typeof u.value === "number") vals.push(u.value); });
    if (c.ci) vals.push(c.ci[0], c.ci[1]);
    if (typeof c.estimate === "number" && ev.agrees) vals.push(c.estimate);
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals), pad = (hi - lo) * 0.08 || 1;
    lo -= pad; hi += pad;
    var H = top + rowH * units.length + 8;
    function x(v) { return left + (W - left - 10) * (v - lo) / (hi - lo); }
    var svg = svgEl("svg", { "class": "forest", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img",
      "aria-label": "per-unit " + ev.value_label });
    if (c.ci && ev.agrees) svg.appendChild(svgEl("rect", { "class": "band", x: x(c.ci[0]), y: 4, width: Math.max(1, x(c.ci[1]) - x(c.ci[0])), height: H - 8 }));
    if (typeof c.estimate === "number" && ev.agrees) svg.appendChild(svgEl("line", { "class": "est", x1: x(c.estimate), x2: x(c.estimate), y1: 4, y2: H - 4 }));
    svg.appendChild(svgEl("line", { "class": "null", x1: x(ev.null), x2: x(ev.null), y1: 4, y2: H - 4 }));
    svg.appendChild(svgEl("text", { x: left, y: 12, text: ev.value_label + " of " + ev.metric + " per " + ev.unit_field }));
    units.forEach(function (u, i) {
      var y = top + i * rowH + rowH / 2;
      svg.appendChild(svgEl("text", { x: 2, y: y + 3, text: u.unit }));
      if (typeof u.value === "number") svg.appendChild(svgEl("circle", { cx: x(u.value), cy: y, r: 4, "class": u.dropped ? "dropped" : "" }));
      else svg.appendChild(svgEl("text", { x: left, y: y + 3, text: u.dropped || "no value" }));
    });
    return svg;
  }
  function evidence(i) {
    var box = document.getElementById("evidence-" + i), c = data.claims[i];
    if (!box || box.getAttribute("data-done")) return;
    box.setAttribute("data-done", "1");
    var ev = c.evidence;
    if (!ev) { box.appendChild(el("p", { cls: "muted", text: "No per-unit view for this claim (not judged, or its kind has no units to draw)." })); return; }
    box.appendChild(el("h4", { text: "Evidence: " + ev.units.length + " units" + (ev.by ? " (" + ev.by + ": " + [].concat(ev.a).join("+") + " vs " + [].concat(ev.b).join("+") + ")" : "") }));
    if (!ev.agrees) box.appendChild(el("p", { cls: "warn", text: "These units are recomputed from the run's trials within the scope the verdict records; the claim's test function chose its own trials (" + c.n + " units, estimate " + show(c.estimate) + "), so they can differ from what it tested. The verdict's interval is not drawn over them." }));
    else box.appendChild(el("p", { cls: "muted", text: "Shaded: the verdict's 95% interval; solid line: its estimate; dashed: no effect. Hollow points are ties (a zero difference), which carry no sign for the test." }));
    box.appendChild(el("div", { cls: "wide" }, [forest(c, ev)]));
    var rows = ev.units.concat(ev.unmatched_units || []).map(function (u) {
      var a = el("a", { href: "#sec-trials", text: "trials", "class": "unit-trials" });
      a.addEventListener("click", function () { setFocus(u.filter); shown = PAGE; render(); });
      return el("tr", { cls: "unit-row" }, [el("td", { text: u.unit }), el("td", { cls: "num", text: num(u.value, 3) }),
        el("td", { cls: "num", text: num(u.a, 3) }), el("td", { cls: "num", text: num(u.b, 3) }), el("td", { cls: "num", text: show(u.n) }),
        el("td", { text: u.dropped || "" }), el("td", {}, [a])]);
    });
    var head = ["unit", ev.value_label, "A", "B", "pairs", "dropped / why", ""].map(function (h) { return el("th", { text: h }); });
    box.appendChild(el("div", { cls: "wide" }, [el("table", { cls: "units" }, [el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)])]));
    if (ev.unmatched_trials) box.appendChild(el("p", { cls: "muted", text: ev.unmatched_trials + " trials found no partner in the other arm and are left out." }));
  }
  function openClaim(i, open) {
    var msg = document.querySelector("tr.claim-msg[data-claim='" + i + "']");
    if (!msg) return;
    var collapse = open === undefined ? !msg.classList.contains("collapsed") : !open;
    msg.classList.toggle("collapsed", collapse);
    if (!collapse) evidence(i);
  }

  // ------------------------------------------------------------------ compare protocols
  function buildCompare() {
    var box = document.getElementById("compare-controls"), protos = distinct("protocol");
    cmp.protocols = protos.slice(0, 2);
    cmp.metric = data.quality_keys.indexOf("judge_q") >= 0 ? "quality.judge_q" : (data.quality_keys.length ? "quality." + data.quality_keys[0] : "cost_usd");
    var ps = el("fieldset", { id: "compare-protocols" }, [el("legend", { text: "protocols to compare" })]);
    protos.forEach(function (p) {
      var cb = el("input", { type: "checkbox", value: p });
      cb.checked = cmp.protocols.indexOf(p) >= 0;
      cb.addEventListener("change", function () {
        cmp.protocols = Array.prototype.filter.call(ps.querySelectorAll("input"), function (x) { return x.checked; }).map(function (x) { return x.value; });
        renderCompare(); renderCells();
      });
      ps.appendChild(el("label", {}, [cb, " " + p]));
    });
    var ms = el("select", { id: "compare-metric", "aria-label": "metric" });
    data.quality_keys.map(function (q) { return "quality." + q; }).concat(METRICS).forEach(function (m) {
      var o = el("option", { value: m, text: m }); if (m === cmp.metric) o.selected = true; ms.appendChild(o);
    });
    ms.addEventListener("change", function () { cmp.metric = ms.value; renderCompare(); });
    var q = el("input", { type: "search", id: "compare-search", placeholder: "search tasks", "aria-label": "search tasks" });
    q.addEventListener("input", renderCompare);
    box.appendChild(ps);
    box.appendChild(el("p", {}, [el("label", { text: "metric " }, [ms]), q]));
  }
  function renderCompare() {
    var table = document.getElementById("compare"), ps = cmp.protocols, m = cmp.metric;
    var q = (document.getElementById("compare-search").value || "").toLowerCase();
    var tasks = {};
    trials.forEach(function (t) {
      if (t.status !== "ok" || ps.indexOf(t.protocol) < 0 || !matches(t)) return;
      if (q && String(t.task_id).toLowerCase().indexOf(q) < 0) return;
      var row = tasks[t.task_id] || (tasks[t.task_id] = {});
      (row[t.protocol] || (row[t.protocol] = [])).push(metricOf(t, m));
    });
    var heads = ["task"].concat(ps.map(function (p) { return p + " (mean, n)"; }));
    if (ps.length === 2) heads.push(ps[0] + " - " + ps[1]);
    if (cmp.sort >= heads.length) cmp.sort = 0;
    table.tHead.textContent = "";
    table.tHead.appendChild(el("tr", {}, heads.map(function (h, i) {
      var th = el("th", { cls: "sortable", text: h + (cmp.sort === i ? (cmp.dir > 0 ? " ▲" : " ▼") : "") });
      th.addEventListener("click", function () { cmp.dir = cmp.sort === i ? -cmp.dir : 1; cmp.sort = i; renderCompare(); });
      return th;
    })));
    var body = table.tBodies[0];
    body.textContent = "";
    var rows = Object.keys(tasks).map(function (task) {
      var means = ps.map(function (p) { return mean(tasks[task][p] || []); });
      var diff = ps.length === 2 && means[0] !== null && means[1] !== null ? means[0] - means[1] : null;
      return { task: task, means: means, diff: diff, key: [task].concat(means, [diff])[cmp.sort] };
    });
    rows.sort(function (a, b) {
      if (a.key === b.key) return a.task < b.task ? -1 : 1;
      if (a.key === null) return 1; if (b.key === null) return -1;
      return (a.key < b.key ? -1 : 1) * cmp.dir;
    });
    rows.forEach(function (row) {
      var task = row.task, r = tasks[task], means = row.means;
      var cells = [el("td", { text: task })].concat(ps.map(function (p, i) {
        return el("td", { cls: "num", text: num(means[i], 3) + " (" + (r[p] || []).length + ")" });
      }));
      if (ps.length === 2) cells.push(el("td", { cls: "num", text: num(row.diff, 3) }));
      var tr = el("tr", { cls: "compare-row", "data-task": task }, cells);
      tr.classList.toggle("selected", task === cmp.task);
      tr.addEventListener("click", function () { sideBySide(task); });
      body.appendChild(tr);
    });
    document.getElementById("compare-count").textContent = Object.keys(tasks).length + " tasks; " + m + " per trial, averaged over the trials the filters keep";
  }
  function qualityLine(t) {
    return Object.keys(t.quality).sort().map(function (k) { return k + " " + num(t.quality[k], 3); }).join(", ");
  }
  function sideBySide(task) {
    cmp.task = task;
    Array.prototype.forEach.call(document.querySelectorAll("#compare tbody tr"), function (tr) { tr.classList.toggle("selected", tr.getAttribute("data-task") === task); });
    var box = document.getElementById("side");
    box.className = "";
    box.textContent = "";
    box.appendChild(el("h3", { text: "Task " + task + ": side by side" }));
    var cols = el("div", { cls: "cols" });
    box.appendChild(cols);
    cmp.protocols.forEach(function (p) {
      var ts = trials.filter(function (t) { return t.task_id === task && t.protocol === p && matches(t); });
      var card = el("div", { cls: "card side-card", "data-protocol": p }, [el("h4", { text: p })]);
      cols.appendChild(card);
      if (!ts.length) { card.appendChild(el("p", { cls: "muted", text: "no trial of this task under the filters" })); return; }
      var pick = el("select", { "aria-label": "trial of " + p });
      ts.forEach(function (t) { pick.appendChild(el("option", { value: t.trial_id, text: t.n_agents + " agents, seed " + t.seed + (t.stream !== "-" ? ", stream pos " + t.position : "") })); });
      var body = el("div", {});
      card.appendChild(pick); card.appendChild(body);
      function fill() {
        var t = byId[pick.value];
        body.textContent = "";
        body.appendChild(el("p", { cls: "facts" }, [el("span", { text: qualityLine(t) || "no quality" }),
          el("span", { text: t.calls + " calls, " + t.tokens + " tokens, $" + num(t.cost_usd, 6) })]));
        var link = el("a", { href: "#trial=" + encodeURIComponent(t.trial_id), text: "read the trial" });
        body.appendChild(link);
        detailOf(t).then(function (d) {
          var j = judgeSection(d.judge);
          if (j) body.appendChild(j);
          body.appendChild(el("pre", { cls: "answer", text: d.answer || "(no answer)" }));
        });
      }
      pick.addEventListener("change", fill);
      fill();
    });
  }
  function renderCells() {
    var table = document.getElementById("cells"), ps = cmp.protocols;
    var heads = ["model", "protocol", "agents", "trials", "tasks", "judge Q [95% CI]", "coverage [95% CI]", "cost USD / trial", "tokens / trial"];
    table.tHead.textContent = "";
    table.tHead.appendChild(el("tr", {}, heads.map(function (h) { return el("th", { text: h }); })));
    var body = table.tBodies[0];
    body.textContent = "";
    function ci(x, d) { return !x ? "-" : num(x.mean, d) + (x.ci ? " [" + num(x.ci[0], d) + ", " + num(x.ci[1], d) + "]" : " (no CI)"); }
    var rows = data.cells.filter(function (c) {
      return (!ps.length || ps.indexOf(c.protocol) >= 0) && ["model", "n_agents"].every(function (f) {
        return !Object.keys(sel[f]).length || sel[f][String(c[f])]; });
    });
    rows.forEach(function (c) {
      var vals = [c.model, c.protocol, c.n_agents, c.trials + (c.incomplete ? " (+" + c.incomplete + " incomplete)" : ""), c.tasks,
        ci(c.quality, 3), ci(c.coverage, 3), ci(c.cost_usd, 6), ci(c.tokens, 0)];
      body.appendChild(el("tr", { cls: "cell-row" }, vals.map(function (v, i) { return el("td", { text: String(v), cls: i >= 3 ? "num" : "" }); })));
    });
    document.getElementById("cell-count").textContent = rows.length + " of " + data.cells.length + " cells";
  }

  // ------------------------------------------------------------------ trials
  function trialHeads() {
    return [["trial_id", "trial"], ["status", "status"]].concat(data.quality_keys.map(function (q) { return ["quality." + q, q]; }), [["cost_usd", "cost USD"]]);
  }
  function renderTrials() {
    var table = document.getElementById("trials");
    table.tHead.textContent = "";
    table.tHead.appendChild(el("tr", {}, trialHeads().map(function (h) {
      var th = el("th", { cls: "sortable", text: h[1] + (sortKey === h[0] ? (sortDir > 0 ? " ▲" : " ▼") : "") });
      th.addEventListener("click", function () { sortDir = sortKey === h[0] ? -sortDir : 1; sortKey = h[0]; renderTrials(); });
      return th;
    })));
    var q = (document.getElementById("trial-search").value || "").toLowerCase();
    var rows = trials.filter(function (t) { return matches(t) && (!q || t._text.indexOf(q) >= 0); });
    rows.sort(function (a, b) {
      var x = metricOf(a, sortKey), y = metricOf(b, sortKey);
      if (x === y) return 0; if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    var body = table.tBodies[0];
    body.textContent = "";
    rows.slice(0, shown).forEach(function (t) {
      var tr = el("tr", { cls: "trial-row", "data-trial": t.trial_id }, [el("td", { text: t.trial_id }), el("td", { text: t.status })]
        .concat(data.quality_keys.map(function (k) { return el("td", { cls: "num", text: num(t.quality[k], 3) }); }),
          [el("td", { text: num(t.cost_usd, 6), cls: "num" })]));
      tr.addEventListener("click", function () { openTrial(t.trial_id); });
      body.appendChild(tr);
    });
    document.getElementById("more").classList.toggle("hidden", rows.length <= shown);
    document.getElementById("trial-count").textContent = rows.length + " of " + trials.length + " trials" + (rows.length > shown ? " (first " + shown + " listed)" : "");
  }
  function kvTable(obj) {
    var keys = Object.keys(obj || {}).sort();
    if (!keys.length) return null;
    return el("table", { cls: "kv" }, [el("tbody", {}, keys.map(function (k) {
      return el("tr", {}, [el("th", { text: k }), el("td", { text: show(obj[k]) })]);
    }))]);
  }
  function judgeSection(j) {
    // Only the judge's 1-4 dimensions and its rationale (the page's data holds nothing else as a score).
    if (!j || (!j.dimensions && !j.rationale)) return null;
    var rows = (j.dimensions || []).map(function (d) {
      var bar = el("span", {});
      bar.style.width = Math.round(30 * d[1]) + "px";
      return el("tr", { cls: "judge-dim" }, [el("th", { text: d[0] }), el("td", { text: d[1] + " / 4" }), el("td", { cls: "bar" }, [bar])]);
    });
    var who = "judge " + (j.model || "?") + (j.self_judged ? " (self-judged)" : "") + (j.failed ? "; the judge's reply failed validation: no scores" : "");
    return el("div", { cls: "judge" }, [el("h4", { text: "Judge" }), el("p", { cls: "muted", text: who }),
      rows.length ? el("table", { cls: "dims" }, [el("tbody", {}, rows)]) : null,
      j.rationale ? el("p", { cls: "rationale" }, [el("b", { text: "rationale: " }), document.createTextNode(j.rationale)]) : null]);
  }
  function turn(r) {
    var who = "agent " + show(r.agent) + (r.kind && r.kind !== "agent" ? " (" + r.kind + ")" : "") +
      " · round " + show(r.round) + " · role: " + (r.role_raw || r.role || "-") + (r.abstain ? " · abstained" : "");
    var bits = [];
    if (r.builds_on && r.builds_on.length) bits.push("builds on " + r.builds_on.join(", "));
    if (r.defers_to && r.defers_to.length) bits.push("defers to " + r.defers_to.join(", "));
    bits.push((r.prompt_tokens || 0) + " + " + (r.completion_tokens || 0) + " tokens");
    bits.push("$" + num(r.cost_usd, 6));
    if (r.source) bits.push(r.source);
    if (r.parse_failed) bits.push("reply did not parse");
    var prompt;
    if (r.prompt) {
      prompt = el("details", { cls: "prompt" }, [el("summary", { text: "prompt (" + (r.prompt_tokens || 0) + " tokens)" })].concat(
        [].concat(r.prompt).map(function (m) { return el("pre", { text: (m.role ? m.role + ": " : "") + (m.content !== undefined ? m.content : m) }); })));
    }
    return el("div", { cls: "turn" + (r.abstain ? " abstain" : "") }, [
      el("div", { cls: "who", text: who }), el("div", { cls: "meta", text: bits.join(" · ") }), prompt || null,
      el("div", { cls: "text", text: r.contribution || "" })]);
  }
  function openTrial(id) {
    var t = byId[id], box = document.getElementById("trial-detail");
    box.textContent = "";
    box.className = "";
    if (!t) { box.textContent = "No trial " + id + " in this run."; return Promise.resolve(); }
    Array.prototype.forEach.call(document.querySelectorAll("#trials tbody tr"), function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-trial") === id);
    });
    var facts = { task: t.task_id, level: t.level, domain: t.domain, protocol: t.protocol, model: t.model,
      agents: t.n_agents, seed: t.seed, stream: t.stream, status: t.status, calls: t.calls, tokens: t.tokens, "cost USD": t.cost_usd };
    if (t.answer_chars !== undefined && t.answer_chars !== null) facts["answer chars"] = t.answer_chars;
    box.appendChild(el("h3", { id: "trial-title", text: t.trial_id }));
    box.appendChild(el("p", { cls: "facts" }, Object.keys(facts).map(function (k) {
      return el("span", {}, [el("b", { text: k + ": " }), document.createTextNode(show(facts[k]))]);
    })));
    var gate = (data.gate && data.gate.failed) || {};
    if (data.gate && data.gate.on === false) box.appendChild(el("p", { cls: "warn", text: "The instrument gate was off for this run: no score or emergence measure here was validated." }));
    box.appendChild(el("h4", { text: "Quality" }));
    box.appendChild(kvTable(t.quality) || el("p", { cls: "muted", text: "no quality scores" }));
    var failed = Object.keys(gate).sort();
    if (failed.length) box.appendChild(el("div", { cls: "warn gate" }, [el("b", { text: "Instrument gate: " }),
      document.createTextNode("claims over these read NOT MEASURED. ")].concat(failed.map(function (k) {
        return el("div", { text: gate[k].sentence || (k + ": " + gate[k].status) }); }))));
    return detailOf(t).then(function (d) {
      if (d.error) box.appendChild(el("p", { cls: "warn", text: "error: " + d.error }));
      var j = judgeSection(d.judge);
      if (j) { j.id = "judge"; box.appendChild(j); }
      var sc = kvTable(d.scores);
      if (sc) box.appendChild(el("details", {}, [el("summary", { text: "scorers' details" }), sc]));
      if (d.answer) { box.appendChild(el("h4", { text: "Answer" })); box.appendChild(el("pre", { cls: "answer", text: d.answer })); }
      box.appendChild(el("h4", { text: "Every call in speaking order (" + d.replies.length + " calls)" }));
      if (!data.has_prompts) box.appendChild(el("p", { cls: "muted", text: "Prompts were not captured for this run: `sorg report RUN --prompts` replays its trials from the cassettes and adds them." }));
      var turns = el("div", { id: "turns" });
      d.replies.forEach(function (r) { turns.appendChild(turn(r)); });
      box.appendChild(turns);
    });
  }

  function render() { renderCompare(); renderCells(); renderTrials(); }
  function route() {
    var m = /^#trial=(.+)$/.exec(window.location.hash);
    if (m) { openTrial(decodeURIComponent(m[1])); document.getElementById("sec-trials").scrollIntoView(); }
    var c = /^#claim=(\d+)$/.exec(window.location.hash);
    if (c) openClaim(+c[1], true);
  }

  Array.prototype.forEach.call(document.querySelectorAll("tr.claim-msg"), function (tr) { tr.classList.add("collapsed"); });
  Array.prototype.forEach.call(document.querySelectorAll("tr.claim-row"), function (tr) {
    tr.addEventListener("click", function () { openClaim(+tr.getAttribute("data-claim")); });
  });
  document.getElementById("trial-search").addEventListener("input", function () { shown = PAGE; renderTrials(); });
  document.getElementById("more").addEventListener("click", function () { shown += PAGE; renderTrials(); });
  window.addEventListener("hashchange", route);
  var ready = inflate("sorg-index").then(function (cols) {
    for (var i = 0; i < data.n_trials; i++) {
      var t = { _i: i, quality: {} };
      Object.keys(cols).forEach(function (k) { if (k !== "quality") t[k] = cols[k][i]; });
      Object.keys(cols.quality).forEach(function (q) { var v = cols.quality[q][i]; if (v !== null && v !== undefined) t.quality[q] = v; });
      t._text = (t.trial_id + " " + t.task_id + " " + t.protocol).toLowerCase();
      trials.push(t);
      byId[t.trial_id] = t;
    }
    buildFilters();
    buildCompare();
    render();
    route();
    document.body.setAttribute("data-ready", "1");
  });
  window.sorgReport = { data: data, openTrial: openTrial, openClaim: openClaim, sideBySide: sideBySide, ready: ready, sel: sel, render: render, cmp: cmp, setFocus: setFocus };
})();
