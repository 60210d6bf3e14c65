/* meetpulse client-side callbacks: at most one page refresh and one live refresh in flight per browser.
 * A tick of the interval is dropped while the previous refresh has not rendered yet (so a refresh
 * slower than the interval still completes and renders); a change of the URL always goes through.
 * A flag older than STALE_MS is ignored, so a lost response never stops the refresh for good. */
(function () {
  var STALE_MS = 60000;
  function state() { window.__meetpulse = window.__meetpulse || {page: 0, live: 0, ticks: 0, skipped: 0}; return window.__meetpulse; }
  function fromInterval(id) {
    var c = window.dash_clientside.callback_context;
    return c && c.triggered && c.triggered.length > 0 && c.triggered.every(function (t) { return t.prop_id.indexOf(id + '.') === 0; });
  }
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    meetpulse: {
      gate: function (n, search) {
        var s = state(), now = Date.now();
        s.ticks += 1;
        if (fromInterval('refresh-interval') && s.page && now - s.page < STALE_MS) {
          s.skipped += 1;
          return window.dash_clientside.no_update;
        }
        s.page = now;
        return {n: n || 0, search: search || '', at: now};
      },
      done: function (stamp) { state().page = 0; return stamp || null; },
      liveGate: function (n) {
        var s = state(), now = Date.now();
        if (!document.getElementById('live-body')) { s.live = 0; return window.dash_clientside.no_update; }
        if (s.live && now - s.live < STALE_MS) { return window.dash_clientside.no_update; }
        s.live = now;
        return {n: n || 0, at: now};
      },
      liveDone: function (stamp) { state().live = 0; return stamp || null; }
    }
  });
})();
