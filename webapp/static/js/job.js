// Poll a job until it is done, then open its plan; show the error if it failed.
(function () {
  "use strict";
  var box = document.getElementById("job");
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("bar");
  var status = document.getElementById("job-status");
  var errorBox = document.getElementById("job-error");
  var delay = 500;
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (job) {
        var pct = Math.round(100 * job.progress);
        bar.style.width = pct + "%";
        bar.parentNode.setAttribute("aria-valuenow", pct);
        status.textContent = job.status + " · " + pct + " %";
        if (job.status === "done" && job.page_url) {
          window.location.assign(job.page_url);
        } else if (job.status === "failed") {
          var e = job.error || {};
          errorBox.textContent = (e.field ? e.field + ": " : "") + (e.detail || e.title || "failed");
          errorBox.hidden = false;
        } else {
          delay = Math.min(delay * 1.3, 3000);
          window.setTimeout(poll, delay);
        }
      })
      .catch(function (err) {
        status.textContent = "waiting for the server (" + err.message + ")";
        window.setTimeout(poll, 2000);
      });
  }
  poll();
})();
