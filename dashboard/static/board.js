// Live board (docs/dashboard.md, Boards). Server-sent updates are merged into the page in
// place, so that bars glide to their new length instead of the board flashing; screen
// readers hear which artworks changed (a polite live region). On a landscape screen the
// board is made for a wall: it fits the screen, either in pages of artworks that turn every
// few seconds (?layout=pages, the default) or in cells that shrink until all fit
// (?layout=fit); ?layout=scroll, and any portrait or phone-sized window, scroll as a page.
// The stream reconnects after errors, including a server restart (EventSource retries by
// itself; when it gives up, we start a new one). A screen opened with ?key=KEY passes its
// key on to the stream.
(function () {
  "use strict";
  var root = document.getElementById("board");
  var status = document.getElementById("live-status");
  var news = document.getElementById("board-news");
  var pager = document.getElementById("board-pages");
  var pause = document.getElementById("board-pause");
  if (!root) { return; }
  var params = new URLSearchParams(window.location.search);
  var layout = root.getAttribute("data-layout") || "scroll";
  // The same query as the style sheet's wall rules: a landscape window at least tablet-wide.
  var wall = window.matchMedia("(orientation: landscape) and (min-width: 48rem)");
  var turnSeconds = Math.min(120, Math.max(3, Number(params.get("turn")) || 10));
  var page = 0;
  var pages = [];
  var paused = false;
  var updatedAt = Date.now();
  var live = false;

  function text(name, n) {
    return (status.getAttribute("data-" + name) || "").replace("{n}", String(n));
  }

  // "updated 3 s ago", ticking; "reconnecting…" while the stream is down.
  function tick() {
    if (!status) { return; }
    if (!live) {
      status.textContent = text("reconnecting");
      status.className = "reconnecting";
      return;
    }
    var seconds = Math.max(0, Math.round((Date.now() - updatedAt) / 1000));
    status.textContent = seconds < 120 ? text("seconds", seconds) : text("minutes", Math.floor(seconds / 60));
    status.className = "live";
  }

  // --- Merging an update into the page --------------------------------------------------
  function key(node) {
    if (node.nodeType !== 1) { return node.nodeName; }
    return node.nodeName + "|" + (node.getAttribute("data-festival") || "") + "|" +
      (node.getAttribute("data-artwork") || "") + "|" + (node.getAttribute("data-choice") || "");
  }

  function morph(from, to) {
    if (from.nodeType === 3) {
      if (from.data !== to.data) { from.data = to.data; }
      return;
    }
    var name, i;
    for (i = from.attributes.length - 1; i >= 0; i--) {
      name = from.attributes[i].name;
      if (!to.hasAttribute(name)) { from.removeAttribute(name); }
    }
    for (i = 0; i < to.attributes.length; i++) {
      name = to.attributes[i].name;
      if (from.getAttribute(name) !== to.attributes[i].value) {
        from.setAttribute(name, to.attributes[i].value);
      }
    }
    morphChildren(from, to);
  }

  // The board element keeps its own attributes (its size, its version): only its content moves.
  function morphChildren(from, to) {
    var i;
    var olds = Array.prototype.slice.call(from.childNodes);
    var news_ = Array.prototype.slice.call(to.childNodes);
    for (i = 0; i < news_.length; i++) {
      if (i < olds.length && key(olds[i]) === key(news_[i]) && olds[i].nodeType === news_[i].nodeType) {
        morph(olds[i], news_[i]);
      } else if (i < olds.length) {
        from.replaceChild(news_[i].cloneNode(true), olds[i]);
      } else {
        from.appendChild(news_[i].cloneNode(true));
      }
    }
    for (i = news_.length; i < olds.length; i++) { from.removeChild(olds[i]); }
  }

  function counts() {
    var found = {};
    root.querySelectorAll(".bar").forEach(function (bar) {
      var cell = bar.closest(".cell");
      var section = bar.closest(".festival-section");
      found[key(section) + key(cell) + key(bar)] = bar.getAttribute("data-count");
    });
    return found;
  }

  function update(html) {
    var before = counts();
    var next = document.createElement("div");
    next.innerHTML = html;
    morphChildren(root, next);
    var changed = [];
    root.querySelectorAll(".cell").forEach(function (cell) {
      var section = cell.closest(".festival-section");
      var moved = false;
      cell.querySelectorAll(".bar").forEach(function (bar) {
        var was = before[key(section) + key(cell) + key(bar)];
        if (was !== undefined && was !== bar.getAttribute("data-count")) { moved = true; }
      });
      if (moved) {
        changed.push(cell.querySelector("h3").textContent);
        cell.classList.remove("changed");
        void cell.offsetWidth; // restart the highlight's animation
        cell.classList.add("changed");
      }
    });
    if (news && changed.length) {
      news.textContent = (news.getAttribute("data-updated") || "{list}").replace("{list}", changed.join(", "));
    }
    arrange();
  }

  // --- Fitting the screen ----------------------------------------------------------------
  function fits() {
    return root.scrollHeight <= root.clientHeight + 1 && root.scrollWidth <= root.clientWidth + 1;
  }

  function items() {
    return Array.prototype.slice.call(root.querySelectorAll(".cell, .festival-section > .empty"));
  }

  function showOnly(all, first, last) {
    all.forEach(function (item, index) { item.hidden = index < first || index > last; });
    root.querySelectorAll(".festival-section").forEach(function (section) {
      var any = section.querySelector(".cell:not([hidden]), .empty:not([hidden])");
      section.hidden = !any && section.querySelector(".cell, .empty") !== null;
    });
  }

  // The largest type (at most the style sheet's) at which everything shown fits.
  function shrink() {
    root.style.removeProperty("font-size");
    if (fits()) { return; }
    var high = parseFloat(window.getComputedStyle(root).fontSize);
    var low = 4;
    for (var step = 0; step < 9; step++) {
      var middle = (low + high) / 2;
      root.style.fontSize = middle + "px";
      if (fits()) { low = middle; } else { high = middle; }
    }
    root.style.fontSize = low + "px";
  }

  // Pages: as many artworks as fit at full size, one page after another.
  function paginate() {
    var all = items();
    root.style.removeProperty("font-size");
    pages = [];
    var first = 0;
    while (first < all.length) {
      var last = first;
      showOnly(all, first, last);
      while (last + 1 < all.length) {
        showOnly(all, first, last + 1);
        if (!fits()) { break; }
        last++;
      }
      pages.push([first, last]);
      first = last + 1;
    }
    if (!pages.length) { pages.push([0, -1]); }
    page = Math.min(page, pages.length - 1);
    showPage();
  }

  function showPage() {
    var all = items();
    showOnly(all, pages[page][0], pages[page][1]);
    shrink(); // one artwork larger than the screen still fits
    if (pager) {
      pager.textContent = pages.length > 1 ? (pager.getAttribute("data-text") || "{n} / {total}")
        .replace("{n}", String(page + 1)).replace("{total}", String(pages.length)) : "";
    }
    if (pause) { pause.hidden = pages.length < 2; }
  }

  function reset() {
    root.style.removeProperty("font-size");
    items().forEach(function (item) { item.hidden = false; });
    root.querySelectorAll(".festival-section").forEach(function (s) { s.hidden = false; });
    pages = [];
    if (pager) { pager.textContent = ""; }
    if (pause) { pause.hidden = true; }
  }

  function arrange() {
    if (layout === "scroll" || !wall.matches) { reset(); return; }
    if (layout === "fit") { reset(); shrink(); return; }
    paginate();
  }

  function turn() {
    if (paused || pages.length < 2 || layout !== "pages" || !wall.matches) { return; }
    root.classList.add("turning");
    window.setTimeout(function () {
      page = (page + 1) % pages.length;
      showPage();
      root.classList.remove("turning");
    }, 400);
  }

  if (pause) {
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.textContent = pause.getAttribute(paused ? "data-resume" : "data-pause");
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
    });
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(arrange, 150);
  });
  document.body.classList.add("scripted");
  arrange();
  window.setInterval(turn, turnSeconds * 1000);
  window.setInterval(tick, 1000);

  // --- The stream ----------------------------------------------------------------------
  if (!window.EventSource) { return; }
  var url = root.getAttribute("data-events");
  var screenKey = params.get("key");
  if (screenKey) {
    url += (url.indexOf("?") < 0 ? "?" : "&") + "key=" + encodeURIComponent(screenKey);
  }
  var source = null;

  function connect() {
    source = new EventSource(url);
    source.onopen = function () { live = true; tick(); };
    source.onmessage = function (event) {
      update(event.data);
      root.setAttribute("data-version", event.lastEventId || "");
      updatedAt = Date.now();
      live = true;
      tick();
    };
    source.onerror = function () {
      live = false;
      tick();
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
