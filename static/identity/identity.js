// The identity page's live part: registers the member's identity with a proof of work solved in a Web
// Worker (progress bar), then, while the page is open, keeps the member live, answers their reputation
// challenges and refreshes the reputation and credit score shown: over the live socket where the web
// process runs ASGI, else by heartbeat and polling.
(function () {
  const root = document.getElementById("identity-live");
  if (!root || !window.fetch || !window.Worker) return;
  const urls = root.dataset;
  const status = document.getElementById("identity-status");
  const bar = document.getElementById("pow-progress");
  const button = document.getElementById("register-button");
  const POLL_MS = 1000 * Number(urls.pollSeconds || 30);
  const HEARTBEAT_MS = 60000;
  const solving = new Set(); // challenge ids being answered, so a slow answer is not started twice
  const timers = [];

  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("negative", Boolean(failed));
  }

  async function call(method, url, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": urls.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((answer.error && answer.error.message) || `The server answered ${response.status}.`);
      error.code = answer.error && answer.error.code;
      throw error;
    }
    return answer;
  }

  // One worker per proof: it is terminated as soon as it answers.
  function solveInWorker(challengeHex, bits, onProgress) {
    return new Promise((resolve, reject) => {
      const worker = new Worker(urls.workerUrl);
      worker.onmessage = ({ data }) => {
        if (data.tried !== undefined) return onProgress && onProgress(data.tried, data.expected);
        worker.terminate();
        if (data.error) reject(new Error(data.error));
        else resolve(data.nonce);
      };
      worker.onerror = (event) => {
        worker.terminate();
        reject(new Error(event.message || "The proof-of-work worker failed."));
      };
      worker.postMessage({ challengeHex, bits });
    });
  }

  // Opens the page afresh from its own url: this document may be the answer to a refused vote, at the
  // vote's url, which a reload would post again.
  function reopen() {
    window.location.assign(urls.pageUrl);
  }

  // Swap in the server's current rendering of the sections that show registration, reputation and credit
  // score, fetched from the page's own url.
  async function refreshSections() {
    // Not followed: a redirect means the server signed the member out (revoked), and following it
    // would use up the sign-in page's message saying why; reopening the page shows it.
    const response = await fetch(urls.pageUrl, { credentials: "same-origin", redirect: "manual" });
    if (response.type === "opaqueredirect") return reopen();
    if (!response.ok) throw new Error(`The page could not be refreshed (${response.status}).`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const section of document.querySelectorAll("[data-live-section]")) {
      const replacement = fresh.getElementById(section.id);
      if (replacement) section.replaceWith(replacement);
    }
  }

  function showProgress(tried, expected) {
    bar.hidden = false;
    bar.max = expected;
    bar.value = Math.min(tried, expected);
    const percent = Math.round((100 * tried) / expected);
    say(`Proving work for your key: ${percent}% of the expected work (${tried.toLocaleString()} tries).`);
  }

  async function register() {
    button.disabled = true;
    try {
      const mine = await call("GET", urls.myIdentityUrl);
      if (mine.registered) {
        button.hidden = true;
        return live();
      }
      const pow = window.TrustPow;
      const seed = crypto.getRandomValues(new Uint8Array(16));
      const key = pow.fromHex(mine.pubkey);
      const message = new Uint8Array(key.length + seed.length);
      message.set(key);
      message.set(seed, key.length);
      const bits = Number(urls.registrationBits);
      showProgress(0, 2 ** bits);
      const nonce = await solveInWorker(pow.toHex(pow.sha256(message)), bits, showProgress);
      bar.value = bar.max;
      await call("POST", urls.registerUrl, { seed: pow.toHex(seed), nonce });
      button.hidden = true;
      bar.hidden = true;
      await refreshSections();
      say("Your identity is registered. Challenges are answered here while this page is open.");
      live();
    } catch (error) {
      button.disabled = false;
      say(`Registration failed: ${error.message}`, true);
    }
  }

  // Revoked, or signed out by a page request that found the revocation first: stop, and reopen the page,
  // which lands on the sign-in page saying why.
  const SESSION_OVER = new Set(["identity_revoked", "not_authenticated"]);
  function sessionOver(error) {
    timers.splice(0).forEach(clearInterval);
    say(error.message, true);
    reopen();
  }

  async function heartbeat() {
    try {
      await call("POST", urls.heartbeatUrl);
    } catch (error) {
      if (SESSION_OVER.has(error.code)) return sessionOver(error);
      say(`The heartbeat failed: ${error.message}`, true);
    }
  }

  async function answer(challenge) {
    solving.add(challenge.id);
    try {
      const nonce = await solveInWorker(challenge.challenge_data_hex, challenge.difficulty_bits);
      await call("POST", urls.solveUrl.replace(/\/0\/solve$/, `/${challenge.id}/solve`), { nonce });
      say(`Challenge ${challenge.id} answered at ${new Date().toLocaleTimeString()}.`);
    } finally {
      solving.delete(challenge.id);
    }
  }

  async function poll() {
    try {
      const pending = await call("GET", urls.challengesUrl);
      await Promise.all(pending.filter((challenge) => !solving.has(challenge.id)).map(answer));
      await refreshSections();
    } catch (error) {
      if (SESSION_OVER.has(error.code)) return sessionOver(error);
      say(`Answering challenges failed: ${error.message}`, true);
    }
  }

  function polling() {
    heartbeat();
    poll();
    timers.push(setInterval(heartbeat, HEARTBEAT_MS), setInterval(poll, POLL_MS));
  }

  // While the live socket (identity/live.py) is open the server counts the member live and pushes each new
  // challenge. Where it cannot open (`manage.py runserver` is WSGI) or once it closes, heartbeat and
  // polling take over, and the API then says why if the member was refused.
  function live() {
    if (!window.WebSocket) return polling();
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const path = urls.challengesUrl.replace(/\/api\/identity\/challenges$/, "/identity/live");
    const socket = new WebSocket(`${scheme}//${window.location.host}${path}`);
    socket.onmessage = async ({ data }) => {
      let message;
      try {
        message = JSON.parse(data);
      } catch (error) {
        return;
      }
      if (message.type === "challenge" && !solving.has(message.id)) {
        solving.add(message.id);
        try {
          const nonce = await solveInWorker(message.challenge_data_hex, message.difficulty_bits);
          socket.send(JSON.stringify({ type: "solve", id: message.id, nonce })); // answered by "solved" or "error"
        } catch (error) {
          say(`Answering challenges failed: ${error.message}`, true);
        } finally {
          solving.delete(message.id);
        }
      } else if (message.type === "solved") {
        say(`Challenge ${message.id} answered at ${new Date().toLocaleTimeString()}.`);
        refreshSections().catch((error) => say(error.message, true));
      } else if (message.type === "error") {
        say(`Answering challenges failed: ${message.message}`, true);
      }
    };
    socket.onclose = polling;
  }

  if (urls.live === "challenges") {
    say("Challenges are answered here while this page is open.");
    live();
  } else if (button) {
    button.hidden = false;
    button.addEventListener("click", register);
  }
})();
