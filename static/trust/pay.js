// "Preview route" on the pay page: asks the API which paths, tax and fees the payment would take.
(function () {
  const form = document.getElementById("pay-form");
  const button = document.getElementById("preview-button");
  const out = document.getElementById("preview");
  if (!form || !button || !out || !window.fetch) return;
  const money = window.trustMoney;
  button.hidden = false;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function show(...nodes) {
    out.hidden = false;
    out.replaceChildren(...nodes);
  }

  function describe(plan) {
    const paths = element("ol", undefined, "paths");
    for (const path of plan.paths) {
      const item = element("li", path.accounts.join(" → ") + " ");
      const hops = path.hops + (path.hops === 1 ? " hop" : " hops");
      item.append(element("small", `(${hops}, ${money.shown(path.amount)})`, "muted"));
      paths.append(item);
    }
    const total = money.micro(plan.amount) + money.micro(plan.tax) + money.micro(plan.fees);
    const figures = element("dl");
    for (const [label, value] of [["Amount", plan.amount], ["Tax", plan.tax], ["Fees", plan.fees], ["You pay in all", money.fromMicro(total)]]) {
      figures.append(element("dt", label), element("dd", money.shown(value)));
    }
    const count = plan.paths.length === 1 ? "One path" : `${plan.paths.length} paths`;
    return [element("h2", count), paths, figures];
  }

  // One press pays once: the Pay button stays disabled while the payment is on its way.
  form.addEventListener("submit", () => {
    const pay = form.querySelector('button[type="submit"]');
    if (pay) setTimeout(() => { pay.disabled = true; }, 0);
  });

  button.addEventListener("click", async () => {
    const data = new FormData(form);
    show(element("p", "Finding a route…", "muted"));
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": data.get("csrfmiddlewaretoken"),
        },
        body: JSON.stringify({ username: data.get("username") || "", amount: data.get("amount") || "" }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        show(element("p", body.error ? body.error.message : "No route could be found.", "error"));
        return;
      }
      show(...describe(body));
    } catch (error) {
      show(element("p", "The server could not be reached; try again.", "error"));
    }
  });
})();
