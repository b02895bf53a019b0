// Shipment table of the results page: search, filter by mode and due date, sort, collapse.
// Each shipment is one <tbody class="shipment"> carrying its numbers as data-* attributes
// (rendered by the server), so nothing here computes a figure.
(function () {
  "use strict";
  var table = document.getElementById("shipments");
  if (!table) { return; }
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.shipment"));
  var search = document.getElementById("ship-search");
  var mode = document.getElementById("ship-mode");
  var status = document.getElementById("ship-status");
  var sort = document.getElementById("ship-sort");
  var collapse = document.getElementById("ship-collapse");
  var count = document.getElementById("ship-count");

  var KEYS = {
    id: function (b) { return b.dataset.shipment; },
    co2e: function (b) { return -parseFloat(b.dataset.co2e); },
    cost: function (b) { return -parseFloat(b.dataset.cost); },
    intensity: function (b) { return -parseFloat(b.dataset.intensity); },
    arrival: function (b) { return b.dataset.arrival; }
  };

  var focus = null;

  // Tell the map (plan page) which shipments and mode are shown, and the focused one.
  function announce(ids) {
    document.dispatchEvent(new CustomEvent("greenlane:shipments", {
      detail: {ids: ids, mode: mode.value || null, focus: focus}
    }));
  }

  function apply() {
    var text = (search.value || "").trim().toLowerCase();
    var shown = [];
    bodies.forEach(function (b) {
      var ok = (!text || b.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!mode.value || (" " + b.dataset.modes + " ").indexOf(" " + mode.value + " ") >= 0) &&
        (!status.value || b.dataset.status === status.value);
      b.hidden = !ok;
      if (ok) { shown.push(b.dataset.shipment); }
    });
    if (focus && shown.indexOf(focus) < 0) { focus = null; }
    bodies.forEach(function (b) { b.classList.toggle("focused", b.dataset.shipment === focus); });
    count.textContent = shown.length + " of " + bodies.length + " shipments";
    announce(shown.length === bodies.length && !mode.value ? null : shown);
  }

  function order() {
    var key = KEYS[sort.value] || KEYS.id;
    bodies.slice().sort(function (a, b) {
      var ka = key(a), kb = key(b);
      if (ka < kb) { return -1; }
      if (ka > kb) { return 1; }
      return a.dataset.shipment < b.dataset.shipment ? -1 : 1;
    }).forEach(function (b) { table.appendChild(b); });
  }

  bodies.forEach(function (b) {
    b.querySelector("tr.ship-head").addEventListener("click", function (e) {
      if (e.target.closest("a, button, input, select")) { return; }
      b.classList.toggle("collapsed");
    });
    var button = b.querySelector("button.map-focus");
    if (button) {
      button.addEventListener("click", function () {
        focus = focus === b.dataset.shipment ? null : b.dataset.shipment;
        apply();
        var map = document.getElementById("map");
        if (focus && map) { map.scrollIntoView({block: "nearest", behavior: "smooth"}); }
      });
    }
  });
  collapse.addEventListener("click", function () {
    var close = collapse.textContent.indexOf("Collapse") === 0;
    bodies.forEach(function (b) { b.classList.toggle("collapsed", close); });
    collapse.textContent = close ? "Expand all" : "Collapse all";
  });
  search.addEventListener("input", apply);
  mode.addEventListener("change", apply);
  status.addEventListener("change", apply);
  sort.addEventListener("change", order);
  apply();
})();
