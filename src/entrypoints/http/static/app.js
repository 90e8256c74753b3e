// The pages' one live connection: a WebSocket to /ws (the session cookie signs it in), reconnected with
// back-off. Every event {"type", "tenant_id", "data"} becomes a DOM CustomEvent "pw:<type>" on document
// with event.detail = data, so any page listens with
//   document.addEventListener("pw:message_incoming", (e) => ...)
// "pw:socket" tells {connected: true|false}; after a reconnect pages may reload what they show.
(function () {
  "use strict";
  const body = document.body;
  const path = body && body.dataset.wsUrl;

  function fire(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function indicate(connected) {
    const dot = document.getElementById("live-indicator");
    if (dot) {
      dot.classList.toggle("on", connected);
      dot.setAttribute("aria-label", connected ? "Live updates on" : "Live updates off");
    }
    body.dataset.live = connected ? "on" : "off";
  }

  function connect(attempt, wasConnected) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + path);
    let pinger = null;
    socket.addEventListener("open", function () {
      indicate(true);
      fire("pw:socket", { connected: true, reconnected: wasConnected });
      attempt = 0;
      wasConnected = true;
      // Keeps proxies from closing an idle socket.
      pinger = setInterval(function () { socket.send("ping"); }, 25000);
    });
    socket.addEventListener("message", function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (!event || !event.type || event.type === "pong") return;
      fire("pw:" + event.type, event.data || {});
    });
    socket.addEventListener("close", function () {
      clearInterval(pinger);
      indicate(false);
      fire("pw:socket", { connected: false });
      const delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
      setTimeout(function () { connect(attempt + 1, wasConnected); }, delay);
    });
  }

  if (path && "WebSocket" in window) connect(0, false);

  // A control marked data-submit-on-change sends its form when changed (the tenant switcher); the page
  // policy runs no inline handlers.
  document.addEventListener("change", function (event) {
    const control = event.target;
    if (control instanceof HTMLElement && control.hasAttribute("data-submit-on-change") && control.form) {
      control.form.requestSubmit();
    }
  });

  // Sandbox panel: a simulated customer writes through the built-in simulator's control API.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-sandbox-form")) return;
    event.preventDefault();
    const data = new FormData(form);
    const number = String(data.get("wa_id") || "").replace(/\D/g, "");
    const out = form.querySelector("output");
    fetch("/_sandbox/_simulator/customers/" + encodeURIComponent(number) + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type: "text", text: { body: data.get("body") }, name: data.get("name") || undefined }),
    }).then(function (response) {
      if (out) out.textContent = response.ok ? "Sent" : "The simulator refused it (" + response.status + ")";
    }).catch(function () {
      if (out) out.textContent = "The simulator did not answer";
    });
  });
})();
