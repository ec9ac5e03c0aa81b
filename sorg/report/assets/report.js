// sorg report page: the cell table with filters and the trial browser, drawn from the JSON
// embedded in the page. Data is only ever inserted as text (never as HTML).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sorg-data").textContent);
  var LABELS = { model: "model", protocol: "protocol", n_agents: "team size", level: "level", stream: "stream" };
  var state = {};
  data.filters.forEach(function (f) { state[f] = ""; });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
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
  function matches(row) {
    return data.filters.every(function (f) { return state[f] === "" || String(row[f]) === state[f]; });
  }
  function distinct(f) {
    var seen = {};
    data.cells.forEach(function (c) { seen[String(c[f])] = c[f]; });
    return Object.keys(seen).map(function (k) { return seen[k]; }).sort(function (a, b) {
      return (typeof a === "number" && typeof b === "number") ? a - b : String(a).localeCompare(String(b));
    });
  }

  function buildFilters() {
    var box = document.getElementById("filters");
    data.filters.forEach(function (f) {
      var sel = el("select", { id: "filter-" + f, "data-filter": f }, [el("option", { value: "", text: "all" })]);
      distinct(f).forEach(function (v) { sel.appendChild(el("option", { value: String(v), text: String(v) })); });
      sel.addEventListener("change", function () { state[f] = sel.value; render(); });
      box.appendChild(el("label", { text: LABELS[f] || f }, [sel]));
    });
  }

  function renderCells() {
    var table = document.getElementById("cells");
    var heads = ["model", "protocol", "agents", "level", "stream", "trials", "tasks"]
      .concat(data.quality_keys.map(function (q) { return "quality: " + q; }), ["cost USD / trial", "tokens / trial"]);
    var thead = table.tHead;
    thead.textContent = "";
    thead.appendChild(el("tr", {}, heads.map(function (h) { return el("th", { text: h }); })));
    var body = table.tBodies[0];
    body.textContent = "";
    var rows = data.cells.filter(matches);
    rows.forEach(function (c) {
      var n = String(c.trials) + (c.incomplete ? " (+" + c.incomplete + " incomplete)" : "");
      var vals = [c.model, c.protocol, c.n_agents, c.level, c.stream, n, c.tasks]
        .concat(data.quality_keys.map(function (q) { return num(c.quality[q], 3); }),
                [num(c.cost_usd, 6), num(c.tokens, 0)]);
      body.appendChild(el("tr", { cls: "cell-row" }, vals.map(function (v, i) {
        return el("td", { text: String(v), cls: i >= 5 ? "num" : "" });
      })));
    });
    document.getElementById("cell-count").textContent = rows.length + " of " + data.cells.length + " cells";
  }

  function renderTrials() {
    var body = document.getElementById("trials").tBodies[0];
    body.textContent = "";
    var rows = data.trials.filter(matches);
    rows.forEach(function (t) {
      var q = Object.keys(t.quality).sort().map(function (k) { return k + " " + num(t.quality[k], 2); }).join(", ");
      var tr = el("tr", { cls: "trial-row", "data-trial": t.trial_id }, [
        el("td", { text: t.trial_id }), el("td", { text: t.status }), el("td", { text: q || "-" }),
        el("td", { text: num(t.cost_usd, 6), cls: "num" })]);
      tr.addEventListener("click", function () { openTrial(t.trial_id); });
      body.appendChild(tr);
    });
    document.getElementById("trial-count").textContent = rows.length + " of " + data.trials.length + " trials";
  }

  function kvTable(obj, cls) {
    var keys = Object.keys(obj || {}).sort();
    if (!keys.length) return null;
    return el("table", { cls: cls || "kv" }, [el("tbody", {}, keys.map(function (k) {
      return el("tr", {}, [el("th", { text: k }), el("td", { text: show(obj[k]) })]);
    }))]);
  }

  function judgeSection(judge) {
    // Numeric fields are dimension scores (e.g. accuracy 1-4); anything else is shown as text.
    var dims = {}, other = {};
    Object.keys(judge || {}).forEach(function (k) {
      var v = judge[k];
      if (v && typeof v === "object" && !Array.isArray(v)) {
        Object.keys(v).forEach(function (d) {
          if (typeof v[d] === "number") dims[d] = v[d]; else other[k + "." + d] = v[d];
        });
      } else if (typeof v === "number") dims[k] = v; else other[k] = v;
    });
    var names = Object.keys(dims).sort();
    if (!names.length && !Object.keys(other).length) return null;
    var top = Math.max.apply(null, names.map(function (d) { return dims[d]; }).concat([1]));
    var scale = top <= 4 ? 4 : top;
    var rows = names.map(function (d) {
      var bar = el("span", {});
      bar.style.width = Math.max(0, Math.round(120 * dims[d] / scale)) + "px";
      return el("tr", { cls: "judge-dim" }, [el("th", { text: d }), el("td", { text: show(dims[d]) + " / " + scale }),
        el("td", { cls: "bar" }, [bar])]);
    });
    return el("div", { id: "judge" }, [el("h4", { text: "Judge" }),
      rows.length ? el("table", { cls: "dims" }, [el("tbody", {}, rows)]) : null, kvTable(other)]);
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
    return el("div", { cls: "turn" + (r.abstain ? " abstain" : "") }, [
      el("div", { cls: "who", text: who }), el("div", { cls: "meta", text: bits.join(" · ") }),
      el("div", { cls: "text", text: r.contribution || "" })]);
  }

  function openTrial(id) {
    var t = data.trials.filter(function (x) { return x.trial_id === id; })[0];
    var box = document.getElementById("trial-detail");
    box.textContent = "";
    box.className = "";
    if (!t) { box.textContent = "No trial " + id + " in this run."; return; }
    Array.prototype.forEach.call(document.querySelectorAll("#trials tbody tr"), function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-trial") === id);
    });
    var facts = { task: t.task_id, level: t.level, domain: t.domain, protocol: t.protocol, model: t.model,
      agents: t.n_agents, seed: t.seed, stream: t.stream, status: t.status, calls: t.calls, tokens: t.tokens,
      "cost USD": t.cost_usd };
    if (t.answer_chars !== undefined && t.answer_chars !== null) facts["answer chars"] = t.answer_chars;
    if (t.error) facts.error = t.error;
    box.appendChild(el("h3", { id: "trial-title", text: t.trial_id }));
    box.appendChild(el("p", { cls: "facts" }, Object.keys(facts).map(function (k) {
      return el("span", {}, [el("b", { text: k + ": " }), document.createTextNode(show(facts[k]))]);
    })));
    box.appendChild(el("h4", { text: "Quality" }));
    box.appendChild(kvTable(t.quality) || el("p", { cls: "muted", text: "no quality scores" }));
    var scores = kvTable(t.scores);
    if (scores) { box.appendChild(el("h4", { text: "Scores" })); box.appendChild(scores); }
    var judge = judgeSection(t.judge);
    if (judge) box.appendChild(judge);
    if (t.replies === null) {
      box.appendChild(el("p", { cls: "muted", text: "Turns are embedded for the first " + data.max_detailed +
        " trials only; see trials.jsonl for this one." }));
      return;
    }
    if (t.answer) { box.appendChild(el("h4", { text: "Answer" })); box.appendChild(el("pre", { cls: "answer", text: t.answer })); }
    box.appendChild(el("h4", { text: "Agents in speaking order (" + t.replies.length + " turns)" }));
    var turns = el("div", { id: "turns" });
    t.replies.forEach(function (r) { turns.appendChild(turn(r)); });
    box.appendChild(turns);
  }

  function render() { renderCells(); renderTrials(); }

  Array.prototype.forEach.call(document.querySelectorAll("tr.claim-msg"), function (tr) { tr.classList.add("collapsed"); });
  Array.prototype.forEach.call(document.querySelectorAll("tr.claim-row"), function (tr) {
    tr.addEventListener("click", function () { tr.nextElementSibling.classList.toggle("collapsed"); });
  });
  buildFilters();
  render();
  var m = /^#trial=(.+)$/.exec(window.location.hash);
  if (m) openTrial(decodeURIComponent(m[1]));
  window.sorgReport = { openTrial: openTrial, state: state, render: render };
})();
