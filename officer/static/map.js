// The officers' map (officer/templates/map.html): open tickets with a location pin, drawn with
// the vendored Leaflet. The data comes in a JSON block of the page (no inline script, so the
// page's Content-Security-Policy allows only files from this site); popups are built as DOM
// nodes with textContent, so nothing a citizen typed can become markup. Without a tile server
// (or when its tiles cannot load) the markers stand on Leaflet's plain background.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var element = document.getElementById("map");
  var map = L.map(element, {center: data.center, zoom: data.zoom});
  if (data.tiles) {
    L.tileLayer(data.tiles, {attribution: data.attribution, maxZoom: 19}).addTo(map);
  }
  var bounds = [];
  data.points.forEach(function (point) {
    var marker = L.circleMarker([point.lat, point.lon], {
      radius: 8, weight: 2, fillOpacity: 0.75,
      color: point.overdue ? "#c53030" : "#2b6cb0", className: "ticket-marker"
    });
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/tickets/" + encodeURIComponent(point.number);
    link.textContent = point.number;
    var line = document.createElement("div");
    line.textContent = point.text;
    box.appendChild(link);
    box.appendChild(line);
    marker.bindPopup(box);
    marker.addTo(map);
    bounds.push([point.lat, point.lon]);
  });
  if (bounds.length) {
    map.fitBounds(bounds, {maxZoom: 16, padding: [24, 24]});
  }
  element.setAttribute("data-markers", String(bounds.length));
})();
