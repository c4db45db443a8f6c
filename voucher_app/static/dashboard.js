// Draws the dashboard's charts (Apache ECharts) from the figures the page carries as JSON;
// the tables beside them hold the same figures for readers who cannot see the charts.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var names = JSON.parse(document.getElementById("dashboard-names").textContent);
  var yuan = function (fen) {
    var sign = fen < 0 ? "-" : "";
    var whole = Math.floor(Math.abs(fen) / 100).toLocaleString("en-US");
    var cents = String(Math.abs(fen) % 100).padStart(2, "0");
    return sign + "¥" + whole + "." + cents;
  };
  var money = { valueFormatter: yuan };
  var axis = { type: "value", axisLabel: { formatter: function (fen) { return yuan(fen).replace(/\.00$/, ""); } } };

  function series(source, type) {
    return data.measures.map(function (measure) {
      return { name: names[measure], type: type, data: source[measure], tooltip: money };
    });
  }

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  var children = draw("chart-children", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 8, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.children.labels },
    yAxis: axis,
    series: series(data.children, "bar"),
  });
  if (children) {
    children.on("click", function (event) {
      window.location.href = "/dashboard/" + encodeURIComponent(data.children.keys[event.dataIndex]);
    });
  }
  draw("chart-months", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 8, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.months.labels },
    yAxis: axis,
    series: series(data.months, "line"),
  });
  draw("chart-categories", {
    tooltip: { trigger: "item", valueFormatter: yuan },
    series: [{
      type: "pie",
      radius: ["35%", "65%"],
      data: data.categories.map(function (item) { return { name: item.label, value: item.value }; }),
    }],
  });
})();
