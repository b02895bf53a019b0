// Charts: the cost-vs-CO2e trade-off (Pareto frontier + this plan) and the intensity
// trajectory (baseline -> target, with this plan's KPI point). Numbers come ready-made.
window.greenlane = window.greenlane || {};
(function (ns) {
  "use strict";
  var GREEN = "#009E73", BLUE = "#0072B2", RED = "#D55E00", GREY = "#7a8088";

  function fmt(x, dp) { return Number(x).toLocaleString("en-US", {maximumFractionDigits: dp}); }

  ns.tradeoffChart = function (id, charts) {
    var el = document.getElementById(id);
    if (!el || !window.Chart) { return null; }
    var frontier = (charts.pareto || []).slice().sort(function (a, b) { return a.x - b.x; });
    return new Chart(el, {
      type: "scatter",
      data: {
        datasets: [
          {label: "Trade-off curve", data: frontier, showLine: true, borderColor: BLUE,
           backgroundColor: BLUE, pointRadius: 4, tension: 0},
          {label: "This plan", data: [charts.chosen], borderColor: RED, backgroundColor: "rgba(0,0,0,0)",
           pointRadius: 9, pointBorderWidth: 3, pointStyle: "circle"}
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: {title: {display: true, text: "CO2e well-to-wheel [kg]"}},
          y: {title: {display: true, text: "Cost [CNY]"}}
        },
        plugins: {tooltip: {callbacks: {label: function (c) {
          var p = c.raw;
          return fmt(p.x, 0) + " kg CO2e · " + fmt(p.y, 0) + " CNY · " + fmt(p.intensity, 2) + " g/tkm";
        }}}}
      }
    });
  };

  ns.trajectoryChart = function (id, charts) {
    var el = document.getElementById(id);
    if (!el || !window.Chart) { return null; }
    var traj = charts.trajectory || [];
    var years = traj.map(function (p) { return p.x; });
    var point = charts.plan_point;
    var lo = Math.min.apply(null, years.concat([point.x])), hi = Math.max.apply(null, years.concat([point.x]));
    return new Chart(el, {
      type: "scatter",
      data: {
        datasets: [
          {label: "Target trajectory", data: traj, showLine: true, borderColor: GREEN, backgroundColor: GREEN,
           borderDash: [6, 4], pointRadius: 2},
          {label: "This plan", data: [point], borderColor: RED, backgroundColor: RED, pointRadius: 7}
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {
          x: {min: lo - 1, max: hi + 1, ticks: {stepSize: 1, callback: function (v) { return Number.isInteger(v) ? String(v) : ""; }},
              title: {display: true, text: "Year"}},
          y: {beginAtZero: true, title: {display: true, text: "g CO2e WTW per tkm"}}
        },
        plugins: {tooltip: {callbacks: {label: function (c) { return c.raw.x + ": " + fmt(c.raw.y, 2) + " g/tkm"; }}}}
      }
    });
  };
})(window.greenlane);
