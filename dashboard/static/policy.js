// The policy editor without a round trip: on each change the form is posted as a preview
// and the rows' words, the change and the preview are replaced from the answer. Without
// JavaScript the Preview button does the same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  if (!form || !window.fetch) { return; }
  var timer = null;
  function refresh() {
    var body = new FormData(form);
    body.set("do", "preview");
    // form.action would be the select named "action": the attribute is the address.
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        ["preview", "changes"].forEach(function (id) {
          var fresh = page.getElementById(id), old = document.getElementById(id);
          if (fresh && old) { old.replaceWith(fresh); }
        });
        page.querySelectorAll(".rule-row").forEach(function (fresh) {
          var old = form.querySelector('.rule-row[data-rule="' + fresh.dataset.rule + '"]');
          if (!old) { return; }
          old.querySelector(".words").textContent = fresh.querySelector(".words").textContent;
          old.className = fresh.className;
          old.querySelectorAll(".field-error, .warnings").forEach(function (e) { e.remove(); });
          fresh.querySelectorAll(".field-error").forEach(function (e) {
            var name = e.parentElement.querySelector("[name]").name;
            var into = old.querySelector('[name="' + name + '"]');
            if (into) { into.after(e); }
          });
          var warn = fresh.querySelector(".warnings");
          if (warn) { old.appendChild(warn); }
        });
        form.dataset.previewed = String(Number(form.dataset.previewed || 0) + 1);
      });
  }
  function changed(event) {
    if (event.target.name === "reason") { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }
  // The audience and action of the preview sit beside the form, joined to it by form=.
  form.addEventListener("change", changed);
  document.querySelectorAll('[form="policy-form"]').forEach(function (field) {
    field.addEventListener("change", changed);
  });
})();
