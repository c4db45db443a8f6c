// Draws the dashboard's charts (Apache ECharts) from the figures the page carries as JSON;
// the tables beside them hold the same figures for readers who cannot see the charts.
//
// The centers below are compared by their use of their own budget, in percent, as horizontal
// bars: a ¥3M budget and a ¥10k spend on one money axis would leave the spend invisible, and a
// vertical axis of 21 city names drops every other one. Each center's row shows its name.
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
  // Basis points as "0.33%" (the page's table says the same, computed by the server).
  var percent = function (bp) {
    if (bp === null || bp === undefined) { return "—"; }
    var sign = bp < 0 ? "-" : "";
    var whole = Math.floor(Math.abs(bp) / 100);
    return sign + whole + "." + String(Math.abs(bp) % 100).padStart(2, "0") + "%";
  };
  var money = { valueFormatter: yuan };
  var moneyAxis = { type: "value", axisLabel: { formatter: function (fen) { return yuan(fen).replace(/\.00$/, ""); } } };

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  var shares = data.children;
  // A row of three bars per center, tall enough for its name (set here: the page's security
  // policy allows no inline style).
  var rows = document.getElementById("chart-children");
  if (rows) { rows.style.height = (70 + shares.labels.length * 56) + "px"; }
  var children = draw("chart-children", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
    legend: { top: 0 },
    grid: { left: 8, right: 56, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "value", min: 0, axisLabel: { formatter: function (bp) { return bp / 100 + "%"; } } },
    // interval 0: every center's name is drawn, however many there are.
    yAxis: { type: "category", inverse: true, data: shares.labels, axisLabel: { interval: 0 } },
    series: data.shares.map(function (share) {
      return {
        name: names[share],
        type: "bar",
        barGap: "10%",
        data: shares[share],
        label: { show: true, position: "right", fontSize: 10, formatter: function (item) { return percent(item.value); } },
      };
    }),
  });
  if (children) {
    children.on("click", function (event) {
      var link = document.querySelector('tr[data-center="' + shares.keys[event.dataIndex] + '"] a');
      if (link) { window.location.href = link.href; }
    });
  }
  if (data.months) {
    draw("chart-months", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.months.labels },
      yAxis: moneyAxis,
      series: data.monthly.map(function (measure) {
        return { name: names[measure], type: "line", data: data.months[measure], tooltip: money };
      }),
    });
  }
  draw("chart-categories", {
    tooltip: { trigger: "item", valueFormatter: yuan },
    series: [{
      type: "pie",
      radius: ["35%", "65%"],
      data: data.categories.map(function (item) { return { name: item.label, value: item.value }; }),
    }],
  });
})();
