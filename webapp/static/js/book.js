// New-plan form: extra shipment rows and the options shown for the chosen objective.
(function () {
  "use strict";
  var add = document.getElementById("add-row");
  if (add) {
    add.addEventListener("click", function () {
      var body = document.querySelector("#entry tbody");
      var row = body.rows[body.rows.length - 1].cloneNode(true);
      row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      body.appendChild(row);
    });
  }
  function sync() {
    var chosen = document.querySelector("input[name=objective]:checked");
    document.querySelectorAll(".opt").forEach(function (el) {
      el.hidden = !chosen || el.dataset.for !== chosen.value;
    });
  }
  document.querySelectorAll("input[name=objective]").forEach(function (r) {
    r.addEventListener("change", sync);
  });
  sync();
  var form = document.getElementById("plan-form");
  if (form) {
    form.addEventListener("submit", function () {
      var run = document.getElementById("run");
      run.disabled = true;
      run.textContent = "Submitting…";
    });
  }
})();
