// Ledger charts: the intensity trajectory (glide path, recorded years, year-end projection),
// monthly intensity against the year's target, and the marginal abatement cost curve (MACC).
// Every number comes ready-made from the server.
window.greenlane = window.greenlane || {};
(function (ns) {
  "use strict";
  var GREEN = "#009E73", BLUE = "#0072B2", RED = "#D55E00", GREY = "#7a8088";
  var PALETTE = ["#009E73", "#0072B2", "#E69F00", "#56B4E9", "#CC79A7", "#D55E00", "#F0E442", "#000000"];

  function fmt(x, dp) { return Number(x).toLocaleString("en-US", {maximumFractionDigits: dp}); }

  ns.ledgerTrajectory = function (id, d) {
    var el = document.getElementById(id);
    if (!el || !window.Chart) { return null; }
    var xs = d.trajectory.map(function (p) { return p.x; }).concat(d.actual.map(function (p) { return p.x; }));
    var lo = Math.min.apply(null, xs.concat([d.projection.x])), hi = Math.max.apply(null, xs.concat([d.projection.x]));
    return new Chart(el, {
      type: "scatter",
      data: {datasets: [
        {label: "Glide path", data: d.trajectory, showLine: true, borderColor: GREEN, backgroundColor: GREEN,
         borderDash: [6, 4], pointRadius: 2},
        {label: "Recorded", data: d.actual, showLine: true, borderColor: BLUE, backgroundColor: BLUE, pointRadius: 5},
        {label: "Year-end projection", data: [d.projection], borderColor: RED, backgroundColor: "rgba(0,0,0,0)",
         pointRadius: 8, pointBorderWidth: 3},
        {label: "Baseline", data: [d.baseline], borderColor: GREY, backgroundColor: GREY, pointStyle: "rect", pointRadius: 6}
      ]},
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: {min: lo - 1, max: hi + 1, ticks: {stepSize: 1, callback: function (v) { return Number.isInteger(v) ? String(v) : ""; }},
              title: {display: true, text: "Year"}},
          y: {beginAtZero: true, title: {display: true, text: "g CO2e WTW per tkm (GCD)"}}
        },
        plugins: {tooltip: {callbacks: {label: function (c) { return c.dataset.label + " " + c.raw.x + ": " + fmt(c.raw.y, 2) + " g/tkm"; }}}}
      }
    });
  };

  ns.ledgerMonths = function (id, rows) {
    var el = document.getElementById(id);
    if (!el || !window.Chart) { return null; }
    return new Chart(el, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.period; }),
        datasets: [
          {type: "bar", label: "Intensity", data: rows.map(function (r) { return r.y; }), backgroundColor: BLUE},
          {type: "line", label: "Target", data: rows.map(function (r) { return r.target; }), borderColor: GREEN,
           borderDash: [6, 4], pointRadius: 0, fill: false}
        ]
      },
      options: {animation: false, maintainAspectRatio: false,
                scales: {y: {beginAtZero: true, title: {display: true, text: "g CO2e/tkm"}}}}
    });
  };

  // A MACC: one filled rectangle per lever, width = abatement [t], height = CNY per t.
  ns.maccChart = function (id, curve) {
    var el = document.getElementById(id);
    if (!el || !window.Chart) { return null; }
    var datasets = curve.map(function (b, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {label: b.label, data: [{x: b.x0, y: 0}, {x: b.x0, y: b.cny_per_t}, {x: b.x1, y: b.cny_per_t}, {x: b.x1, y: 0}],
              showLine: true, fill: true, borderColor: colour, backgroundColor: colour + "99", pointRadius: 0,
              tension: 0, lever: b};
    });
    return new Chart(el, {
      type: "scatter",
      data: {datasets: datasets},
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {x: {title: {display: true, text: "Abatement, cumulative [t CO2e]"}, beginAtZero: true},
                 y: {title: {display: true, text: "CNY per t CO2e"}}},
        plugins: {
          legend: {display: curve.length <= 12, position: "bottom"},
          tooltip: {callbacks: {label: function (c) {
            var b = c.dataset.lever;
            return b.label + ": " + fmt(b.x1 - b.x0, 3) + " t at " + fmt(b.cny_per_t, 0) + " CNY/t";
          }}}
        }
      }
    });
  };
})(window.greenlane);
