// The observer app's service worker, served at /sw.js (scope "/") with its version filled in by
// the server (a hash of the static files: a new release installs a new worker, whose "activate"
// deletes the older caches).
// Cached: the app shell (style, scripts) and the observer's own pages, /stations and the filing
// forms (/file/...), network first, so a form opens without a connection. Nothing else: no API
// response, no coordinator page, no photo; a page that redirected (to the login) is not kept.
// The outbox itself is in IndexedDB (outbox.js); "sync" sends it where the browser has
// background sync (Chromium), the pages send it on load and on "online" everywhere else.
importScripts("/static/outbox.js?v=__VERSION__");

var VERSION = "__VERSION__";
var SHELL = "pollwatch-shell-" + VERSION, PAGES = "pollwatch-pages-" + VERSION;
var SHELL_URLS = ["/static/style.css", "/static/outbox.js", "/static/offline.js"];
var OWN_PAGES = /^\/(stations|file\/(incident|protocol|checklist\/[A-Za-z0-9_.-]+))$/;

self.addEventListener("install", function (ev) {
  // cache: "reload": this version's files from the server, never a stale HTTP-cache copy
  ev.waitUntil(caches.open(SHELL).then(function (c) {
    return c.addAll(SHELL_URLS.map(function (u) { return new Request(u, {cache: "reload"}); }));
  })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("pollwatch-") === 0 && k !== SHELL && k !== PAGES;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(req, resp) {
  // only a page of this origin that was served as asked (not a redirect to the login page)
  if (resp.ok && !resp.redirected && resp.type === "basic") {
    var copy = resp.clone();
    caches.open(PAGES).then(function (c) { return c.put(req, copy); });
  }
  return resp;
}

self.addEventListener("fetch", function (ev) {
  var req = ev.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (SHELL_URLS.indexOf(url.pathname) >= 0) {
    ev.respondWith(caches.match(url.pathname, {cacheName: SHELL}).then(function (hit) {
      return hit || fetch(req);
    }));
  } else if (req.mode === "navigate" && OWN_PAGES.test(url.pathname)) {
    ev.respondWith(fetch(req).then(function (resp) { return keep(req, resp); }, function (err) {
      return caches.match(req, {cacheName: PAGES}).then(function (hit) {
        if (hit) return hit;
        throw err;  // never visited: the browser's own offline page
      });
    }));
  }
});

self.addEventListener("message", function (ev) {
  var data = ev.data || {};
  if (data.type === "warm") {  // the forms linked from the observer's station list
    ev.waitUntil(caches.open(PAGES).then(function (c) {
      return Promise.all(data.urls.filter(function (u) { return OWN_PAGES.test(new URL(u, self.location.origin).pathname); })
        .map(function (u) {  // only the missing ones: a visit online refreshes a page anyway
          return c.match(u).then(function (hit) {
            if (hit) return;
            return fetch(u, {credentials: "same-origin"}).then(function (resp) {
              if (resp.ok && !resp.redirected) return c.put(u, resp);
            }, function () { /* offline: fetched on a later visit */ });
          });
        }));
    }));
  } else if (data.type === "forget-pages") {  // another user logged in on this phone
    ev.waitUntil(caches.delete(PAGES));
  }
});

self.addEventListener("sync", function (ev) {
  if (ev.tag !== "pollwatch-outbox") return;
  ev.waitUntil(PollwatchOutbox.getMeta("user").then(function (owner) {
    return PollwatchOutbox.flush(owner, true);
  }).then(function (res) {
    return self.clients.matchAll().then(function (cs) {
      cs.forEach(function (c) { c.postMessage({type: "flushed", result: res}); });
      if (res.retry) throw new Error("retry");  // the browser schedules the sync again
    });
  }));
});
