// Offline-first filing (docs/offline.md): a report is first kept on the phone in the IndexedDB
// outbox (outbox.js), its photo downscaled here, then sent to the JSON API; what cannot be sent
// now waits and is sent on page load, on "online", by background sync and every 15 s after a
// growing delay. Only once the outbox holds a report is the form cleared: a report that cannot
// be kept (storage full or refused) stays in the form with a message. The service stores a
// client_id once, so a report sent twice arrives once. The messages come from the page
// (data-* attributes rendered in the user's language). Without JavaScript the forms post to
// the pages instead. Logging out deletes the outbox and the caches (after a warning when
// reports are still unsent).
(function () {
  var OLD_KEY = "pollwatch-outbox", MAX_SIDE = 2048, QUALITY = 0.8;
  var O = window.PollwatchOutbox, script = document.currentScript, text = script.dataset;
  var user = text.user || "", msg = document.getElementById("msg");
  var sw = navigator.serviceWorker;

  function say(s) { if (msg) { msg.textContent = s; msg.hidden = false; } }
  function fill(s, k, v) { return s.split("{" + k + "}").join(v); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & 15) >> (c / 4)).toString(16); });
  }
  function count() {
    return O.count().then(function (n) {
      var el = document.getElementById("unsent-count");
      if (el) { el.textContent = n; el.parentElement.hidden = n === 0; }
      return n;
    }, function () { return 0; });
  }
  function report(res) {
    if (res.rejected.length) say(fill(text.rejected, "detail", res.rejected.join("; ")));
    else if (res.login) say(text.login);
    else if (res.retry) say(text.queued);
    else if (res.sent) say(text.saved);
    return count();
  }
  var busy = false;
  function flush(force) {
    if (busy || !user) return Promise.resolve();
    busy = true;
    return O.flush(user, force).then(report, function () {}).then(function () { busy = false; });
  }

  // A photo re-encoded as JPEG at most MAX_SIDE px on its long side: the EXIF orientation is
  // applied by the decoder, and the re-encoding drops the metadata (GPS, camera serial).
  // A format this browser cannot decode (HEIC on some phones) is queued as taken.
  function downscale(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) return Promise.resolve(file);
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bmp) {
      var s = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
      var c = document.createElement("canvas");
      c.width = Math.round(bmp.width * s);
      c.height = Math.round(bmp.height * s);
      c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
      bmp.close();
      return new Promise(function (ok, fail) {
        c.toBlob(function (b) { if (b) ok(b); else fail(new Error("encode")); }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }
  // refuses before writing when the browser says the origin's quota cannot take the report
  function room(bytes) {
    if (!navigator.storage || !navigator.storage.estimate) return Promise.resolve();
    return navigator.storage.estimate().then(function (e) {
      if (e.quota !== undefined && e.usage !== undefined && e.quota - e.usage < bytes * 2) {
        var err = new Error("quota"); err.name = "QuotaExceededError"; throw err;
      }
    });
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
  function fresh(form) {  // a page may come from the cache: never reuse its client_id
    form.querySelector("input[name=client_id]").value = uuid();
  }

  document.querySelectorAll("form[data-offline]").forEach(function (form) {
    fresh(form);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var item = {client_id: null, api: form.dataset.api, body: toBody(form, form.dataset.offline),
                  owner: user, created: Date.now(), tries: 0, next_at: 0};
      item.client_id = item.body.client_id;
      var file = form.querySelector("input[type=file]"), ready = Promise.resolve();
      if (file && file.files.length) {
        ready = downscale(file.files[0]).then(function (blob) { item.photo = blob; item.photoId = uuid(); });
      }
      ready.then(function () {
        return room((item.photo ? item.photo.size : 0) + JSON.stringify(item.body).length);
      }).then(function () {
        return O.put(item);
      }).then(function () {
        form.reset();
        fresh(form);  // the next report is new
        if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
        if (sw && window.SyncManager) {
          sw.ready.then(function (reg) { return reg.sync.register("pollwatch-outbox"); }).catch(function () {});
        }
        say(text.queued);
        return count().then(function () { if (navigator.onLine) return flush(true); });
      }, function (err) {  // not kept: the form keeps what the observer typed
        say(fill(text.queueFailed, "error", err && err.name ? err.name : String(err)));
      }).then(function () { button.disabled = false; });
    });
  });

  // Logging out deletes this phone's copy of everything: the outbox, the cached pages, the
  // worker (the server's Clear-Site-Data answer does it again where the browser supports it).
  document.querySelectorAll("form[action='/logout']").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      O.all().then(function (items) { return items.length; }, function () { return 0; }).then(function (n) {
        if (n && !window.confirm(fill(text.logoutUnsent, "n", n))) return;
        var steps = [O.destroy()];
        try { localStorage.removeItem(OLD_KEY); } catch (e) { /* storage disabled */ }
        if (window.caches) {
          steps.push(caches.keys().then(function (ks) {
            return Promise.all(ks.filter(function (k) { return k.indexOf("pollwatch-") === 0; })
              .map(function (k) { return caches.delete(k); }));
          }));
        }
        if (sw) {
          steps.push(sw.getRegistrations().then(function (rs) {
            return Promise.all(rs.map(function (r) { return r.unregister(); }));
          }));
        }
        return Promise.all(steps.map(function (p) { return p.catch(function () {}); })).then(function () { form.submit(); });
      });
    });
  });

  // the localStorage outbox of earlier versions, moved once (its photos were data: URLs)
  function migrate() {
    var old;
    try { old = JSON.parse(localStorage.getItem(OLD_KEY) || "[]"); } catch (e) { old = []; }
    if (!old.length) return Promise.resolve();
    return old.reduce(function (p, it, i) {
      return p.then(function () {
        var photo = it.photo ? fetch(it.photo).then(function (r) { return r.blob(); }) : Promise.resolve(null);
        return photo.then(function (blob) {
          var item = {client_id: it.body.client_id, api: it.api, body: it.body, owner: user,
                      created: Date.now() + i, tries: 0, next_at: 0};
          if (blob) { item.photo = blob; item.photoId = it.photoId || uuid(); }
          return O.put(item);
        });
      });
    }, Promise.resolve()).then(function () { localStorage.removeItem(OLD_KEY); });
  }

  function start() {
    if (!user) return Promise.resolve();  // the login page: nothing to open
    return O.getMeta("user").then(function (prev) {
      if (prev && prev !== user && sw && sw.controller) sw.controller.postMessage({type: "forget-pages"});
      return O.setMeta("user", user);
    }).then(migrate).then(count).then(function () { return flush(true); }).catch(function (err) {
      say(fill(text.queueFailed, "error", err && err.name ? err.name : String(err)));
    });
  }

  if (sw && window.isSecureContext && user) {  // none before login: nothing to keep
    sw.register("/sw.js", {scope: "/"}).then(function () { return sw.ready; }).then(function (reg) {
      var links = [].map.call(document.querySelectorAll("a[href^='/file/']"), function (a) { return a.getAttribute("href"); });
      if (links.length && reg.active) reg.active.postMessage({type: "warm", urls: links});
    }).catch(function () { /* pages still work online */ });
    sw.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === "flushed") report(ev.data.result);
    });
  }
  window.addEventListener("online", function () { flush(true); });
  setInterval(function () { if (navigator.onLine) flush(false); }, 15000);
  start();
})();
