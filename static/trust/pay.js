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
    out.hidden = !nodes.length;
    out.replaceChildren(...nodes);
  }

  // A refusal about one of the form's fields sits beside that field, as on the server's form (and is
  // announced); any other refusal is said in the preview.
  function refused(error) {
    if (!error) return show(element("p", "No route could be found.", "error"));
    if (!error.fields) return show(element("p", error.message, "error"));
    const elsewhere = [];
    for (const [name, messages] of Object.entries(error.fields)) {
      const field = form.elements.namedItem(name);
      if (!field) {
        elsewhere.push(messages[0]);
        continue;
      }
      const note = element("small", messages[0], "error preview-error");
      note.setAttribute("role", "alert");
      field.after(note);
    }
    return elsewhere.length ? show(element("p", elsewhere.join(" "), "error")) : show();
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
    for (const note of form.querySelectorAll(".preview-error")) note.remove();
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
        refused(body.error);
        return;
      }
      show(...describe(body));
    } catch (error) {
      show(element("p", "The server could not be reached; try again.", "error"));
    }
  });
})();
