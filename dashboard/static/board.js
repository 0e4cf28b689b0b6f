// Live board: replace the board with each server-sent update; reconnect after errors,
// including a server restart (EventSource retries by itself; when it gives up, we start a
// new one). A screen opened with ?key=KEY passes its key on to the stream.
(function () {
  "use strict";
  var root = document.getElementById("board");
  var status = document.getElementById("live-status");
  if (!root || !window.EventSource) { return; }
  var url = root.getAttribute("data-events");
  var key = new URLSearchParams(window.location.search).get("key");
  if (key) {
    url += (url.indexOf("?") < 0 ? "?" : "&") + "key=" + encodeURIComponent(key);
  }
  var source = null;

  function show(text, state) {
    if (status) { status.textContent = text; status.className = state; }
  }

  function connect() {
    source = new EventSource(url);
    source.onopen = function () { show("live", "live"); };
    source.onmessage = function (event) {
      root.innerHTML = event.data;
      root.setAttribute("data-version", event.lastEventId || "");
      show("live", "live");
    };
    source.onerror = function () {
      show("reconnecting…", "reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        refusedOrRetry();
      }
    };
  }
  // A refused stream (the screen key was revoked): reload, so that the screen shows the
  // page that says how to get a new key. Anything else: try again in a moment.
  function refusedOrRetry() {
    var retry = function () { window.setTimeout(connect, 3000); };
    if (!window.fetch) { retry(); return; }
    window.fetch(window.location.href, { method: "HEAD", cache: "no-store" }).then(
      function (response) {
        if (response.status === 401) { window.location.reload(); } else { retry(); }
      },
      retry
    );
  }

  connect();
})();
