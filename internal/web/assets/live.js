// live.js follows the dashboard's event stream (GET /events, docs/api.md
// "Live runs") and fills in the progress line of each set on the page
// (elements with data-live-set); when a run of a set on the page ends, the
// page reloads to show the run. Text is set with textContent only.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var me = document.currentScript;
  var since = me ? me.getAttribute("data-since") : null;
  function boxes(set) {
    var out = [];
    document.querySelectorAll("[data-live-set]").forEach(function (el) {
      if (el.getAttribute("data-live-set") === set) { out.push(el); }
    });
    return out;
  }
  function show(set, text, fraction) {
    boxes(set).forEach(function (el) {
      el.hidden = false;
      var t = el.querySelector(".live-text");
      if (t) { t.textContent = text; }
      var bar = el.querySelector("progress");
      if (bar && fraction !== null) { bar.value = Math.round(fraction * 1000); }
    });
  }
  // since: the ends after the page was rendered are sent too.
  var es = new EventSource("/events" + (since ? "?since=" + encodeURIComponent(since) : ""));
  es.addEventListener("progress", function (ev) {
    var p;
    try { p = JSON.parse(ev.data); } catch (e) { return; }
    show(p.set, p.text, p.fraction);
  });
  es.addEventListener("done", function (ev) {
    var d;
    try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (boxes(d.set).length === 0) { return; }
    show(d.set, d.text, null);
    es.close();
    window.setTimeout(function () { window.location.reload(); }, 1000);
  });
})();
