// The balance overview: history chart (Chart.js) and the member's part of the trust graph (Cytoscape.js).
(function () {
  const money = window.trustMoney;
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const units = (micro) => micro / 1e6; // for drawing only; the figures shown are exact

  // Dates as the pages write them ("2 Dec 2026", "2 Dec 2026 09:00"), in UTC as the pages show times.
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const HOUR = 3600e3;
  const DAY = 24 * HOUR;
  const dayOf = (time) => {
    const date = new Date(time);
    return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
  };
  const clockOf = (time) => new Date(time).toISOString().slice(11, 16);

  // Whole hours, days or months between min and max (times in ms), finest first.
  const multiples = (step) => (min, max) => {
    const values = [];
    for (let value = Math.ceil(min / step) * step; value <= max; value += step) values.push(value);
    return values;
  };
  const monthStarts = (months) => (min, max) => {
    const start = (index) => Date.UTC(Math.floor(index / 12), index % 12);
    const from = new Date(min);
    let index = from.getUTCFullYear() * 12 + from.getUTCMonth();
    if (start(index) < min) index += 1;
    const values = [];
    for (index = Math.ceil(index / months) * months; start(index) <= max; index += months) values.push(start(index));
    return values;
  };
  const STEPS = [
    ...[1, 2, 3, 6, 12].map((hours) => ({ hourly: true, values: multiples(hours * HOUR) })),
    ...[1, 2, 7, 14].map((days) => ({ values: multiples(days * DAY) })),
    ...[1, 2, 3, 6, 12, 24, 60].map((months) => ({ values: monthStarts(months) })),
  ];

  // The time axis's ticks, [value, label]: the finest step with at most `most` of them. Hours are
  // labelled with their time, and their day where it changes; longer steps with the day.
  function timeTicks(min, max, most) {
    const step = STEPS.find((candidate) => candidate.values(min, max).length <= most) || STEPS[STEPS.length - 1];
    const values = step.values(min, max);
    return values.map((value, index) => {
      if (!step.hourly) return [value, dayOf(value)];
      const newDay = index === 0 || dayOf(value) !== dayOf(values[index - 1]);
      return [value, newDay ? [clockOf(value), dayOf(value)] : clockOf(value)];
    });
  }

  function balanceChart() {
    const canvas = document.getElementById("balance-chart");
    if (!canvas || !window.Chart) return;
    const history = data("balance-history");
    const currency = canvas.dataset.currency || "";
    const times = history.map((point) => Date.parse(point.at));
    // The axis runs over time, from the start to the last payment (an hour either side of a single moment).
    const [first, last] = [times[0], times[times.length - 1]];
    const [min, max] = first === last ? [first - HOUR, last + HOUR] : [first, last];
    let labels = new Map();
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: "Net balance",
          data: history.map((point, index) => ({ x: times[index], y: units(point.balance) })),
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
              title: (items) => `${dayOf(times[items[0].dataIndex])} ${clockOf(times[items[0].dataIndex])}`,
              label: (item) => {
                const point = history[item.dataIndex];
                const where = point.payment ? ` after payment #${point.payment}` : " at the start";
                return `${money.shown(money.fromMicro(BigInt(point.balance)))} ${currency}${where}`;
              },
            },
          },
        },
        scales: {
          x: {
            type: "linear",
            min,
            max,
            // About one date per 80 pixels: four on a phone, more on a wide screen.
            afterBuildTicks: (scale) => {
              const ticks = timeTicks(min, max, Math.max(2, Math.floor(scale.width / 80)));
              labels = new Map(ticks);
              scale.ticks = ticks.map(([value]) => ({ value }));
            },
            ticks: { callback: (value) => labels.get(value) ?? "", maxRotation: 0 },
          },
        },
      },
    });
  }

  const COLOURS = { me: "#1f6f5c", counterpart: "#3b82c4", second: "#9aa5b1", commons: "#c98a1a" };

  // The member in the middle, counterparts on a ring around it, theirs on an outer ring, each
  // near the counterparts it is linked to. Deterministic: the same picture on every visit. The
  // outer ring's radius is `radius` (pixels), so the picture fills its box at its own size.
  // Returns each node's position, and the side of it its name goes on, where its lines do not run.
  function rings(graph, radius) {
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
    const innerRadius = outer.length ? radius * 0.7 : radius;
    for (const node of [...inner, ...outer]) {
      const r = node.role === "second" ? radius : innerRadius;
      positions[node.id] = { x: r * Math.cos(angleOf[node.id]), y: r * Math.sin(angleOf[node.id]) };
    }
    // Theirs outward; counterparts to one side, clear of their line to the member and of theirs outward.
    const sides = {};
    for (const node of inner) sides[node.id] = sideAt(angleOf[node.id] + Math.PI / 2);
    for (const node of outer) sides[node.id] = sideAt(angleOf[node.id]);
    // Cytoscape node ids are strings.
    return {
      positions: Object.fromEntries(Object.entries(positions).map(([id, position]) => [String(id), position])),
      sides,
    };
  }

  function sideAt(angle) {
    const [x, y] = [Math.cos(angle), Math.sin(angle)];
    if (Math.abs(y) >= 0.5) return y < 0 ? "top" : "bottom";
    return x < 0 ? "left" : "right";
  }

  // Room around the picture for the names beside the nodes, and a node's own half, in pixels.
  const GRAPH_PADDING = 28;
  const NODE_RADIUS = 12;

  // The figures are what can be paid along each of the member's own lines, on them and in a sentence
  // under the picture; tapping another account lights its lines (fading the rest) and says what it
  // can pay along them; tapping the member or the background goes back.
  function trustGraph() {
    const box = document.getElementById("trust-graph");
    if (!box || !window.cytoscape) return;
    const graph = data("trust-graph-data");
    const me = String(graph.nodes.find((node) => node.role === "me").id);
    const radius = Math.max(Math.min(box.clientWidth, box.clientHeight) / 2 - GRAPH_PADDING - NODE_RADIUS, 40);
    const layout = rings(graph, radius);
    const elements = [
      ...graph.nodes.map((node) => ({
        data: { id: String(node.id), label: node.label, role: node.role },
        classes: `name-${layout.sides[node.id] || "bottom"}`,
      })),
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
    const cy = window.cytoscape({
      container: box,
      elements,
      // A fitted picture: the page scrolls over it on a phone, and taps pick an account.
      userZoomingEnabled: false,
      userPanningEnabled: false,
      boxSelectionEnabled: false,
      autoungrabify: true,
      layout: { name: "preset", positions: layout.positions, fit: true, padding: GRAPH_PADDING },
      maxZoom: 1.5,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)", "font-size": 13, color: "#1d2733",
            "text-background-color": "#fbfcfc", "text-background-opacity": 0.85, "text-background-padding": 1,
            width: 22, height: 22, "background-color": COLOURS.second,
          },
        },
        ...Object.entries(COLOURS).map(([role, colour]) => ({ selector: `node[role = '${role}']`, style: { "background-color": colour } })),
        { selector: "node.name-top", style: { "text-valign": "top", "text-margin-y": -3 } },
        { selector: "node.name-bottom", style: { "text-valign": "bottom", "text-margin-y": 3 } },
        { selector: "node.name-left", style: { "text-valign": "center", "text-halign": "left", "text-margin-x": -4 } },
        { selector: "node.name-right", style: { "text-valign": "center", "text-halign": "right", "text-margin-x": 4 } },
        // The legend says who "you" are; the middle stays free for the figures on the member's lines.
        { selector: "node[role = 'me']", style: { width: 30, height: 30, label: "" } },
        {
          selector: "edge",
          style: {
            width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
            "line-color": "#8fa3b3", "target-arrow-color": "#8fa3b3", "control-point-step-size": 20,
          },
        },
        {
          // Along its line, so the figures of lines leaving one account sit side by side, not on top of each other.
          selector: "edge.shown",
          style: {
            label: "data(label)", "font-size": 11, color: "#3d4a59", "edge-text-rotation": "autorotate",
            "text-background-color": "#fbfcfc", "text-background-opacity": 0.9, "text-background-padding": 1,
            "line-color": "#5f7a8f", "target-arrow-color": "#5f7a8f",
          },
        },
        { selector: "edge[open = 'no']", style: { "line-style": "dashed", opacity: 0.35, "target-arrow-shape": "none" } },
        { selector: ".faded", style: { opacity: 0.15 } },
      ],
    });
    const caption = document.getElementById("trust-graph-caption");
    const currency = box.dataset.currency || "";
    const say = (node) => {
      const own = node.id() === me;
      const payable = node.outgoers("edge[open = 'yes']").map((edge) => [edge.target().data("label"), edge.data("label")]);
      const parts = payable.sort(([a], [b]) => a.localeCompare(b)).map(([name, figure]) => `${name} ${figure} ${currency}`);
      const along = own ? "Along your lines you" : `Along its lines ${node.data("label")}`;
      const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts[0];
      caption.textContent = parts.length ? `${along} can pay ${list}.` : `${along} can pay no one now.`;
    };
    const mine = () => {
      cy.batch(() => {
        cy.elements().removeClass("shown faded");
        cy.getElementById(me).outgoers("edge").addClass("shown");
      });
      say(cy.getElementById(me));
    };
    const focus = (node) => {
      const lines = node.connectedEdges();
      cy.batch(() => {
        cy.elements().removeClass("shown faded");
        cy.elements().difference(lines.union(lines.connectedNodes())).addClass("faded");
      });
      say(node);
    };
    mine();
    cy.on("tap", "node", (event) => (event.target.id() === me ? mine() : focus(event.target)));
    cy.on("tap", (event) => {
      if (event.target === cy) mine();
    });
    window.addEventListener("resize", () => {
      cy.resize();
      cy.fit(undefined, GRAPH_PADDING);
    });
  }

  balanceChart();
  trustGraph();
})();
