// Plan map: legs along their geometry over an offline Natural Earth basemap (world-atlas).
// Colour and dash pattern per mode come from the GeoJSON (simplestyle `stroke`,
// `stroke-dasharray`), so the map, the GeoJSON report and the PDF agree.
window.greenlane = window.greenlane || {};
(function (ns) {
  "use strict";
  ns.MODES = {
    road: {label: "Road", color: "#E69F00", dash: null},
    rail: {label: "Rail", color: "#009E73", dash: "12 6"},
    sea: {label: "Sea", color: "#0072B2", dash: "6 6"},
    inland_water: {label: "Inland water", color: "#56B4E9", dash: "6 3 2 3"},
    air: {label: "Air", color: "#CC79A7", dash: "2 6"}
  };

  function fmt(x, dp) {
    if (x === null || x === undefined || x === "") { return "–"; }
    return Number(x).toLocaleString("en-US", {maximumFractionDigits: dp, minimumFractionDigits: dp});
  }

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text === null || text === undefined ? "" : String(text);
    return div.innerHTML;
  }

  function tooltip(p) {
    if (p.kind === "hub") {
      return "<strong>" + esc(p.hub || p.origin_name) + "</strong><br>hub operation · " +
        esc(p.shipment_id) + "<br>" + fmt(p.co2e_wtw_kg, 1) + " kg CO2e WTW";
    }
    var mode = ns.MODES[p.mode] || {label: p.mode};
    return "<strong>" + esc(mode.label) + "</strong> · " + esc(p.shipment_id) + " (" + esc(p.tce_id) + ")<br>" +
      esc(p.origin_name) + " → " + esc(p.destination_name) + "<br>" +
      fmt(p.distance_km, 0) + " km (" + esc(p.distance_basis) + ") · " + esc(p.energy_carrier) + "<br>" +
      fmt(p.co2e_wtw_kg, 1) + " kg CO2e WTW · " + fmt(p.co2e_ttw_kg, 1) + " TTW<br>" +
      fmt(p.intensity_wtw_g_per_tkm, 1) + " g CO2e/tkm";
  }

  var COPIES = [-360, 0, 360];

  function shifted(offset) {
    return function (c) { return L.latLng(c[1], c[0] + offset); };
  }

  function addBasemap(map) {
    var url = window.GREENLANE_BASEMAP;
    if (!url || !window.topojson) { return; }
    var renderer = L.canvas({pane: "basemap", padding: 0.5});
    fetch(url).then(function (r) { return r.json(); }).then(function (topo) {
      var land = window.topojson.feature(topo, topo.objects.countries);
      land.features.forEach(function (f) {
        var g = f.geometry;
        if (!g) { return; }
        if (g.type === "Polygon") { g.coordinates = g.coordinates.map(unwrapRing); }
        if (g.type === "MultiPolygon") {
          g.coordinates = g.coordinates.map(function (poly) { return poly.map(unwrapRing); });
        }
      });
      COPIES.forEach(function (offset) {
        L.geoJSON(land, {
          pane: "basemap", renderer: renderer, interactive: false, coordsToLatLng: shifted(offset),
          style: {color: "#b9c2b1", weight: 0.6, fillColor: "#eef1ea", fillOpacity: 1}
        }).addTo(map);
      });
      map.getContainer().dataset.basemap = "loaded";
    });
  }

  // A line cut at +-180 deg (RFC 7946) is joined again and made continuous in longitude, so
  // a trans-Pacific leg draws as one line; every feature is drawn on three world copies.
  function unwrapLine(coords) {
    var out = [], prev = null;
    coords.forEach(function (c) {
      var lon = c[0];
      if (prev !== null) {
        while (lon - prev > 180) { lon -= 360; }
        while (prev - lon > 180) { lon += 360; }
      }
      out.push([lon, c[1]]);
      prev = lon;
    });
    return out;
  }

  // Islands cut at +-180 deg (Fiji, Chukotka) would draw a line across the world: join
  // them; a ring that circles the pole (Antarctica) is left as it is.
  function unwrapRing(ring) {
    var out = unwrapLine(ring);
    return Math.abs(out[out.length - 1][0] - out[0][0]) < 180 ? out : ring;
  }

  function continuous(feature) {
    var g = feature.geometry;
    if (!g) { return feature; }
    var coords = null;
    if (g.type === "LineString") { coords = unwrapLine(g.coordinates); }
    if (g.type === "MultiLineString") { coords = unwrapLine([].concat.apply([], g.coordinates)); }
    if (!coords) { return feature; }
    return {type: "Feature", id: feature.id, properties: feature.properties,
            geometry: {type: "LineString", coordinates: coords}};
  }

  // The narrowest longitude interval holding every coordinate (largest empty gap left out).
  function lonSpan(features) {
    var lons = [], lats = [];
    features.forEach(function (f) {
      var g = f.geometry;
      if (!g) { return; }
      var pts = g.type === "Point" ? [g.coordinates] : g.coordinates;
      pts.forEach(function (c) {
        lons.push(((c[0] + 180) % 360 + 360) % 360 - 180);
        lats.push(c[1]);
      });
    });
    if (!lons.length) { return null; }
    lons.sort(function (a, b) { return a - b; });
    var gap = lons[0] + 360 - lons[lons.length - 1], west = lons[0], east = lons[lons.length - 1];
    for (var i = 1; i < lons.length; i++) {
      if (lons[i] - lons[i - 1] > gap) {
        gap = lons[i] - lons[i - 1];
        west = lons[i];
        east = lons[i - 1] + 360;
      }
    }
    return L.latLngBounds([Math.min.apply(null, lats), west], [Math.max.apply(null, lats), east]);
  }

  function legend(el, modes) {
    if (!el) { return; }
    var html = "";
    Object.keys(ns.MODES).forEach(function (key) {
      if (!modes[key]) { return; }
      var m = ns.MODES[key];
      html += '<span class="item"><svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" ' +
        'stroke="' + m.color + '" stroke-width="3.5"' + (m.dash ? ' stroke-dasharray="' + m.dash + '"' : "") +
        "/></svg>" + m.label + "</span>";
    });
    if (modes.zero_tailpipe) {
      html += '<span class="item"><svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="#555" stroke-width="3.5"/>' +
        '<line x1="1" y1="5" x2="33" y2="5" stroke="#fff" stroke-width="1.2"/></svg>zero tailpipe (electric, H2)</span>';
    }
    html += '<span class="item"><svg width="12" height="12" aria-hidden="true"><circle cx="6" cy="6" r="4" fill="#fff" stroke="#333" stroke-width="1.5"/></svg>Hub</span>';
    el.innerHTML = html;
  }

  function zeroTailpipe(f) {
    var p = f.properties || {};
    return p.kind === "leg" && p.co2e_ttw_kg !== null && p.co2e_ttw_kg !== undefined && Number(p.co2e_ttw_kg) <= 0;
  }

  ns.planMap = function (mapId, legendId, geojson) {
    var map = L.map(mapId, {zoomSnap: 0.25, worldCopyJump: false, minZoom: 1, maxZoom: 10});
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Basemap: Natural Earth (world-atlas) · offline");
    map.createPane("basemap").style.zIndex = 200;
    map.setView([35, 60], 2);
    addBasemap(map);
    var modes = {};
    var features = (geojson.features || []).filter(function (f) { return !!f.geometry; }).map(continuous);
    var drawn = 0;
    map.greenlaneLayers = [];
    COPIES.forEach(function (offset) {
      var layer = L.geoJSON({type: "FeatureCollection", features: features}, {
        coordsToLatLng: shifted(offset),
        style: function (f) {
          var p = f.properties || {};
          modes[p.mode] = true;
          return {
            color: p.stroke || (ns.MODES[p.mode] || {}).color || "#444",
            weight: 3.5, opacity: 0.9, lineCap: "butt",
            dashArray: p["stroke-dasharray"] || null
          };
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 4.5, color: "#333", weight: 1.5, fillColor: "#fff", fillOpacity: 1});
        },
        onEachFeature: function (f, l) { l.bindTooltip(tooltip(f.properties || {}), {sticky: true}); }
      }).addTo(map);
      if (offset === 0) { drawn = layer.getLayers().length; }
      map.greenlaneLayers.push({layer: layer, opacity: 0.9, primary: offset === 0});
      // Energy carrier as a second cue: legs with no tailpipe emissions (electricity,
      // hydrogen) get a white centre line over their mode colour.
      var centre = L.geoJSON({type: "FeatureCollection", features: features.filter(zeroTailpipe)}, {
        coordsToLatLng: shifted(offset), interactive: false,
        style: function () { return {color: "#ffffff", weight: 1.2, opacity: 0.95}; }
      }).addTo(map);
      map.greenlaneLayers.push({layer: centre, opacity: 0.95});
    });
    if (features.some(zeroTailpipe)) { modes.zero_tailpipe = true; }
    var bounds = lonSpan(features);
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, {padding: [24, 24]}); }
    legend(document.getElementById(legendId), modes);
    map.getContainer().dataset.legs = String(drawn);
    return map;
  };

  // Show only some shipments (a Set of ids, or null for all) and one mode (or null); with
  // ``focus`` (one shipment id) the map zooms to it. Hubs stay with their shipment.
  ns.filterMap = function (map, ids, mode, focus) {
    if (!map || !map.greenlaneLayers) { return 0; }
    var shown = 0, bounds = null;
    map.greenlaneLayers.forEach(function (entry) {
      entry.layer.eachLayer(function (l) {
        var p = (l.feature && l.feature.properties) || {};
        var on = (!ids || ids.has(p.shipment_id)) &&
          (!mode || p.kind === "hub" || p.mode === mode) && (!focus || p.shipment_id === focus);
        var style = {opacity: on ? entry.opacity : 0.07};
        if (l.setRadius) { style.fillOpacity = on ? 1 : 0.07; }
        l.setStyle(style);
        if (on) {
          shown += 1;
          if (focus && entry.primary && l.getBounds) {  // the central world copy only
            bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds());
          }
        }
      });
    });
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, {padding: [24, 24], maxZoom: 6}); }
    map.getContainer().dataset.shown = String(shown);
    return shown;
  };

  // First/last-mile stop routes: one dark dotted tour per vehicle (terminal -> stops ->
  // terminal, stations included), the stops as small squares; tooltips give the route totals.
  ns.stopRoutes = function (map, legendId, routes) {
    if (!map || !routes || !routes.length) { return 0; }
    var group = L.layerGroup().addTo(map);
    routes.forEach(function (r) {
      var latlngs = (r.geometry || []).map(function (c) { return L.latLng(c[1], c[0]); });
      var tip = "<strong>" + esc(r.route_id) + "</strong> · " + esc(r.leg_label || r.leg) + " · " + esc(r.depot) + "<br>" +
        esc(r.vehicle_type) + " · " + esc(r.energy_carrier) + "<br>" +
        fmt(r.distance_km, 1) + " km · " + fmt(r.co2e_wtw_kg, 1) + " kg CO2e WTW · " + fmt(r.cost_cny, 0) + " CNY<br>" +
        esc((r.stops || []).map(function (s) { return s.shipment_id; }).join(" > "));
      L.polyline(latlngs, {color: "#222", weight: 2, opacity: 0.9, dashArray: "1 5", lineCap: "round"})
        .bindTooltip(tip, {sticky: true}).addTo(group);
      (r.stops || []).forEach(function (s) {
        L.circleMarker([s.lat, s.lon], {radius: 3.5, color: "#222", weight: 1, fillColor: "#E69F00", fillOpacity: 1})
          .bindTooltip(esc(s.shipment_id) + " · " + esc(s.kind) + " at " + esc(s.site) + "<br>" +
            fmt(s.co2e_wtw_kg, 1) + " kg CO2e allocated (" + fmt(100 * s.share, 1) + " %)").addTo(group);
      });
    });
    var el = document.getElementById(legendId);
    if (el) {
      el.insertAdjacentHTML("beforeend", '<span class="item"><svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" ' +
        'stroke="#222" stroke-width="2" stroke-dasharray="1 5" stroke-linecap="round"/></svg>stop route (first/last mile)</span>');
    }
    map.getContainer().dataset.stopRoutes = String(routes.length);
    return routes.length;
  };
})(window.greenlane);
