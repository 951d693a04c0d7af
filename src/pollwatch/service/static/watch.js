// With JavaScript the two forms go to the JSON API through an outbox kept on the phone: a filing
// made without a connection is sent when it returns, and its client_id makes a resend harmless.
// Without JavaScript the forms post to /watch/tally and /watch/log instead.
(function () {
  var KEY = "pollwatch-camera-outbox", head = document.getElementById("watch"), msg = document.getElementById("msg");
  var day = head.dataset.day, station = +head.dataset.station;
  function box() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function keep(items) {
    localStorage.setItem(KEY, JSON.stringify(items));
    document.getElementById("camera-unsent-count").textContent = items.length;
    document.getElementById("camera-unsent").hidden = items.length === 0;
  }
  function say(text) { msg.textContent = text; msg.hidden = false; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (Math.random() * 16) >> (c / 4)).toString(16); });
  }
  function at(hhmm, plus) {  // the station's wall clock on election day, without an offset
    var d = new Date(day + "T" + hhmm + ":00Z");
    d.setUTCMinutes(d.getUTCMinutes() + (plus || 0));
    return d.toISOString().slice(0, 19);
  }
  var busy = false;
  function flush() {
    if (busy || !navigator.onLine || !box().length) return;
    busy = true;
    var failed = null;
    box().reduce(function (p, item) {
      return p.then(function () {
        return fetch(item.api, {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
                                body: JSON.stringify(item.body)}).then(function (r) {
          if (r.status >= 500) throw new Error("server " + r.status);
          if (r.status === 401) throw new Error("login");  // the session ended: keep it queued
          keep(box().filter(function (x) { return x.body.client_id !== item.body.client_id; }));
          if (r.status >= 400) return r.json().then(function (j) { failed = JSON.stringify(j.detail); });
        });
      });
    }, Promise.resolve()).then(function () {
      busy = false;
      if (failed) say(failed); else location.href = "/watch?station=" + station + "&saved=1";
    }, function (e) { busy = false; say(e.message === "login" ? head.dataset.login : head.dataset.queued); });
  }
  function queue(form, api, body) {
    keep(box().concat([{api: api, body: body}]));
    form.querySelector("input[name=client_id]").value = uuid();  // the next filing is new
    if (navigator.onLine) flush(); else say(head.dataset.queued);
  }
  document.getElementById("tally-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = new FormData(this), hidden = f.get("not_visible") === "1", n = f.get("count");
    queue(this, "/api/camera/tallies", {client_id: f.get("client_id"), station_id: station,
      window_start: at(f.get("window_start")), window_end: at(f.get("window_start"), +f.get("window_minutes")),
      count: hidden || n === "" ? null : +n, usable: !hidden, reason: f.get("reason") || ""});
  });
  document.getElementById("log-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = new FormData(this), sel = document.getElementById("value");
    queue(this, "/api/camera/logs", {client_id: f.get("client_id"), station_id: station,
      kind: sel.options[sel.selectedIndex].dataset.kind, value: f.get("value"), at: at(f.get("at")),
      note: f.get("note") || ""});
  });
  window.addEventListener("online", flush);
  setInterval(flush, 10000);  // the "online" event can come before the network is really back
  keep(box());
  flush();
})();
