// Offline-first filing: every report is queued in localStorage under its client_id, then sent to
// the JSON API; on failure it stays queued and is retried when the browser comes back online.
// The server stores a client_id once, so a report sent twice still arrives once.
(function () {
  var KEY = "pollwatch-outbox";
  var script = document.currentScript;
  var msg = document.getElementById("msg");
  function outbox() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); count(); }
  function count() {
    var el = document.getElementById("unsent-count"), n = outbox().length;
    if (el) { el.textContent = n; el.parentElement.hidden = n === 0; }
  }
  function say(text) { if (msg) { msg.textContent = text; msg.hidden = false; } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (Math.random() * 16) >> (c / 4)).toString(16); });
  }
  function post(url, opts) {
    return fetch(url, Object.assign({method: "POST", credentials: "same-origin"}, opts)).then(function (r) {
      // a server error or an ended session (401: expired, logged out): the report stays queued
      if (r.status >= 500) throw new Error("server " + r.status);
      if (r.status === 401) throw new Error("login");
      return r.json().then(function (j) { return {status: r.status, body: j}; });
    });
  }
  function sendOne(item) {
    var step = Promise.resolve(null);
    if (item.photo) {
      step = fetch(item.photo).then(function (r) { return r.blob(); }).then(function (blob) {
        var fd = new FormData();
        fd.append("client_id", item.photoId);
        fd.append("file", blob, "photo");
        return post("/api/media", {body: fd});
      }).then(function (r) { return r.body.id; });
    }
    return step.then(function (mediaId) {
      var body = Object.assign({}, item.body);
      if (mediaId) body.media_ids = [mediaId];
      return post(item.api, {headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    });
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve();
    flushing = true;
    var items = outbox();
    return items.reduce(function (p, item) {
      return p.then(function () {
        return sendOne(item).then(function (r) {
          save(outbox().filter(function (x) { return x.body.client_id !== item.body.client_id; }));
          say(r.status < 300 ? script.dataset.saved : JSON.stringify(r.body.detail));
        });
      });
    }, Promise.resolve()).catch(function (e) {
      say(e.message === "login" ? script.dataset.login : script.dataset.queued); })
      .then(function () { flushing = false; });
  }
  function toBody(form, kind) {
    var fd = new FormData(form), body = {client_id: fd.get("client_id"), station_id: +fd.get("station_id")};
    if (kind === "checklist") { body.form = fd.get("form"); body.answers = {}; }
    if (kind === "protocol") { body.numbers = {}; body.votes = {}; }
    fd.forEach(function (v, k) {
      if (v === "" || v instanceof File) return;
      if (k.indexOf("a.") === 0) body.answers[k.slice(2)] = v;
      else if (k.indexOf("n.") === 0) body.numbers[k.slice(2)] = +v;
      else if (k.indexOf("v.") === 0) body.votes[k.slice(2)] = +v;
      else if (["category", "severity", "occurred_at", "description"].indexOf(k) >= 0) body[k] = v;
    });
    return body;
  }
  document.querySelectorAll("form[data-offline]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var item = {api: form.dataset.api, body: toBody(form, form.dataset.offline)};
      var file = form.querySelector("input[type=file]");
      var ready = Promise.resolve();
      if (file && file.files.length) {
        ready = new Promise(function (ok) {
          var rd = new FileReader();
          rd.onload = function () { item.photo = rd.result; item.photoId = uuid(); ok(); };
          rd.readAsDataURL(file.files[0]);
        });
      }
      ready.then(function () {
        save(outbox().concat([item]));
        form.reset();
        form.querySelector("input[name=client_id]").value = uuid();  // the next report is new
        if (navigator.onLine) flush(); else say(script.dataset.queued);
      });
    });
  });
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  count();
  flush();
})();
