// The observer's outbox in IndexedDB, shared by the pages (offline.js) and the service worker
// (sw.js, for background sync): one record per report, keyed by its client_id, with the photo as
// a Blob (IndexedDB stores Blobs without the third-again size of base64 in localStorage).
// A report leaves the outbox only when the service has it (2xx) or refused it for good (a 4xx
// other than 401, 403, 408, 429: it would be refused again); after 401/403 it waits for the
// next login, after a network error, 408, 429 or 5xx it is tried again with a growing delay.
// Each record names its owner (the user id of the page that queued it): another user who logs
// in on the same phone never sends it under their name. The client_ids make a resend harmless.
(function (self) {
  var DB = "pollwatch", OUTBOX = "outbox", META = "meta", LOCK = "pollwatch-outbox";

  function open() {
    return new Promise(function (ok, fail) {
      var rq = indexedDB.open(DB, 1);
      rq.onupgradeneeded = function () {
        rq.result.createObjectStore(OUTBOX, {keyPath: "client_id"});
        rq.result.createObjectStore(META);
      };
      rq.onsuccess = function () { ok(rq.result); };
      rq.onerror = function () { fail(rq.error); };
    });
  }
  // one transaction; resolves with the last request's result once it is committed (a write is
  // on disk, or failed with the transaction's error: QuotaExceededError among them)
  function run(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (ok, fail) {
        var result, t;
        try {
          t = db.transaction(store, mode);
          var rq = fn(t.objectStore(store));
          if (rq) rq.onsuccess = function () { result = rq.result; };
        } catch (e) { db.close(); fail(e); return; }
        t.oncomplete = function () { db.close(); ok(result); };
        t.onerror = t.onabort = function () { db.close(); fail(t.error || new Error("IndexedDB")); };
      });
    });
  }
  function all() { return run(OUTBOX, "readonly", function (s) { return s.getAll(); }); }
  function put(item) { return run(OUTBOX, "readwrite", function (s) { return s.put(item); }); }
  function del(id) { return run(OUTBOX, "readwrite", function (s) { return s.delete(id); }); }
  function count() { return run(OUTBOX, "readonly", function (s) { return s.count(); }); }
  function getMeta(k) { return run(META, "readonly", function (s) { return s.get(k); }); }
  function setMeta(k, v) { return run(META, "readwrite", function (s) { return s.put(v, k); }); }
  // the whole database, at logout (a seized phone keeps no reports); "blocked" while another
  // tab holds it open: given up waiting after two seconds (the server's Clear-Site-Data follows)
  function destroy() {
    return new Promise(function (ok) {
      var rq = indexedDB.deleteDatabase(DB);
      rq.onsuccess = rq.onerror = function () { ok(); };
      setTimeout(ok, 2000);
    });
  }

  function post(url, opts) {
    return fetch(url, Object.assign({method: "POST", credentials: "same-origin"}, opts)).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = JSON.parse(t); } catch (e) { /* a proxy's HTML error page */ }
        return {status: r.status, body: j};
      });
    });
  }
  function outcome(status) {
    if (status < 300) return "sent";
    if (status === 401 || status === 403) return "login";  // kept until the observer logs in
    if (status === 408 || status === 429 || status >= 500) return "retry";
    return "rejected";
  }
  // the photo first (its own client_id, so a resend finds it), its id kept on the record so a
  // retry after a failed report does not upload it again
  function sendOne(item) {
    var step = Promise.resolve({status: 200});
    if (item.photo && !item.mediaId) {
      var fd = new FormData();
      fd.append("client_id", item.photoId);
      fd.append("file", item.photo, "photo.jpg");
      step = post("/api/media", {body: fd}).then(function (r) {
        if (r.status >= 300) return r;
        item.mediaId = r.body.id;
        return put(item).then(function () { return r; });
      });
    }
    return step.then(function (r) {
      if (r.status >= 300) return r;
      var body = Object.assign({}, item.body);
      if (item.mediaId) body.media_ids = [item.mediaId];
      return post(item.api, {headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    });
  }
  function backoff(tries) {  // 5 s, 10 s, 20 s ... at most 10 minutes, with jitter against herds
    return Math.min(600000, 5000 * Math.pow(2, tries - 1)) * (0.75 + Math.random() * 0.5);
  }
  function detail(body) {
    if (!body || body.detail === undefined) return "";
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {  // the API's validation errors: "field: reason"
      return body.detail.map(function (e) {
        var loc = (e.loc || []).filter(function (p) { return p !== "body"; }).join(".");
        return (loc ? loc + ": " : "") + (e.msg || JSON.stringify(e));
      }).join(", ");
    }
    return JSON.stringify(body.detail);
  }
  // Sends the owner's records in the order they were queued; `force` ignores the back-off
  // (page load, "online", background sync). Resolves with what happened, for the messages.
  function flushNow(owner, force) {
    var res = {sent: 0, rejected: [], login: false, retry: false, left: 0};
    if (!owner) return Promise.resolve(res);
    return all().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      return items.reduce(function (p, item) {
        return p.then(function () {
          if (item.owner !== owner) return;
          if (res.login || (!force && item.next_at > Date.now())) { res.left++; return; }
          return sendOne(item).then(function (r) {
            var o = outcome(r.status);
            if (o === "sent") { res.sent++; return del(item.client_id); }
            if (o === "rejected") { res.rejected.push(detail(r.body) || String(r.status)); return del(item.client_id); }
            res.left++;
            if (o === "login") { res.login = true; return; }
            throw new Error("retry");
          }).catch(function () {  // no network, 408, 429, 5xx: later
            res.retry = true;
            item.tries = (item.tries || 0) + 1;
            item.next_at = Date.now() + backoff(item.tries);
            return put(item);
          });
        });
      }, Promise.resolve());
    }).then(function () { return res; });
  }
  // one flush at a time across the tabs and the service worker (Web Locks where there are)
  function flush(owner, force) {
    if (self.navigator && navigator.locks) {
      return navigator.locks.request(LOCK, function () { return flushNow(owner, force); });
    }
    return flushNow(owner, force);
  }

  self.PollwatchOutbox = {
    all: all, put: put, del: del, count: count, getMeta: getMeta, setMeta: setMeta,
    destroy: destroy, flush: flush, outcome: outcome
  };
})(self);
