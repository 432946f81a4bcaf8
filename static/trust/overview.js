// The balance overview: history chart (Chart.js) and the member's part of the trust graph (Cytoscape.js).
(function () {
  const money = window.trustMoney;
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const units = (micro) => micro / 1e6; // for drawing only; the figures shown are exact

  function balanceChart() {
    const canvas = document.getElementById("balance-chart");
    if (!canvas || !window.Chart) return;
    const history = data("balance-history");
    const currency = canvas.dataset.currency || "";
    // Dates along the axis; times when the whole history fits in one day.
    const days = new Set(history.map((point) => new Date(point.at).toDateString()));
    const label = (date) => (days.size > 1 ? date.toLocaleDateString() : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: history.map((point) => label(new Date(point.at))),
        datasets: [{
          label: "Net balance",
          data: history.map((point) => units(point.balance)),
          stepped: true,
          borderColor: "#1f6f5c",
          backgroundColor: "rgba(31, 111, 92, 0.12)",
          fill: "origin",
          pointRadius: 2,
        }],
      },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => new Date(history[items[0].dataIndex].at).toLocaleString(),
              label: (item) => {
                const point = history[item.dataIndex];
                const where = point.payment ? ` after payment #${point.payment}` : " at the start";
                return `${money.shown(money.fromMicro(BigInt(point.balance)))} ${currency}${where}`;
              },
            },
          },
        },
        scales: { x: { ticks: { maxTicksLimit: 6, autoSkip: true } } },
      },
    });
  }

  const COLOURS = { me: "#1f6f5c", counterpart: "#3b82c4", second: "#9aa5b1", commons: "#c98a1a" };

  // The member in the middle, counterparts on a ring around it, theirs on an outer ring, each
  // near the counterparts it is linked to. Deterministic: the same picture on every visit.
  function rings(graph) {
    const me = graph.nodes.find((node) => node.role === "me");
    const inner = graph.nodes.filter((node) => node.role === "counterpart" || node.role === "commons");
    const outer = graph.nodes.filter((node) => node.role === "second");
    const positions = { [me.id]: { x: 0, y: 0 } };
    const angleOf = {};
    // At least a third of a turn apart, so two counterparts' own line does not run through the member.
    const step = (2 * Math.PI) / Math.max(inner.length, 3);
    inner.forEach((node, index) => {
      angleOf[node.id] = -Math.PI / 2 + step * (index - (inner.length - 1) / 2);
    });
    const wanted = outer.map((node) => {
      let x = 0, y = 0;
      for (const edge of graph.edges) {
        if (edge.source === node.id && edge.target in angleOf) {
          x += Math.cos(angleOf[edge.target]);
          y += Math.sin(angleOf[edge.target]);
        }
      }
      return { node, angle: Math.atan2(y, x) };
    }).sort((a, b) => a.angle - b.angle);
    const gap = Math.min((2 * Math.PI) / Math.max(wanted.length, 1), 0.45);
    let last = -Infinity;
    for (const item of wanted) {
      last = Math.max(item.angle, last + gap);
      angleOf[item.node.id] = last;
    }
    const radius = { counterpart: 85, commons: 85, second: 170 };
    for (const node of [...inner, ...outer]) {
      const r = radius[node.role];
      positions[node.id] = { x: r * Math.cos(angleOf[node.id]), y: r * Math.sin(angleOf[node.id]) };
    }
    // Cytoscape node ids are strings.
    return Object.fromEntries(Object.entries(positions).map(([id, position]) => [String(id), position]));
  }

  function trustGraph() {
    const box = document.getElementById("trust-graph");
    if (!box || !window.cytoscape) return;
    const graph = data("trust-graph-data");
    const elements = [
      ...graph.nodes.map((node) => ({ data: { id: String(node.id), label: node.label, role: node.role } })),
      ...graph.edges.map((edge) => ({
        data: {
          id: `${edge.line}:${edge.source}`,
          source: String(edge.source),
          target: String(edge.target),
          label: edge.capacity > 0 ? money.shown(money.fromMicro(BigInt(edge.capacity))) : "",
          open: edge.capacity > 0 ? "yes" : "no",
        },
      })),
    ];
    window.cytoscape({
      container: box,
      elements,
      minZoom: 0.3,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      layout: { name: "preset", positions: rings(graph), fit: true, padding: 24 },
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)", "font-size": 12, color: "#1d2733", "text-valign": "bottom", "text-margin-y": 3,
            width: 22, height: 22, "background-color": COLOURS.second,
          },
        },
        ...Object.entries(COLOURS).map(([role, colour]) => ({ selector: `node[role = '${role}']`, style: { "background-color": colour } })),
        { selector: "node[role = 'me']", style: { width: 30, height: 30, "font-weight": "bold" } },
        {
          selector: "edge",
          style: {
            width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
            "line-color": "#8fa3b3", "target-arrow-color": "#8fa3b3", label: "data(label)", "font-size": 10,
            color: "#5b6777", "text-background-color": "#fff", "text-background-opacity": 0.8, "text-background-padding": 1,
            "control-point-step-size": 28,
          },
        },
        { selector: "edge[open = 'no']", style: { "line-style": "dashed", opacity: 0.35, "target-arrow-shape": "none" } },
      ],
    });
  }

  balanceChart();
  trustGraph();
})();
