// /chat: live updates from the socket (app.js), the composer's modes (message, template, flow, product(s),
// catalog, location request), template parameters, replies and the customer's "typing…" indicator.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat) return;
  const conversationId = chat.dataset.conversationId || null;
  const csrf = (function () {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (_) { return ""; }
  })();
  const search = document.getElementById("chat-search");
  const thread = document.getElementById("thread");
  const composer = document.getElementById("composer");

  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  const refreshList = debounce(function () {
    const params = new URLSearchParams();
    if (search && search.value) params.set("q", search.value);
    if (conversationId) params.set("active", conversationId);
    htmx.ajax("GET", "/chat/list?" + params.toString(), { target: "#conversation-list", swap: "innerHTML" });
  }, 150);

  const refreshThread = debounce(function () {
    if (!conversationId) return;
    htmx.ajax("GET", "/chat/" + conversationId + "/thread", { target: "#thread", swap: "innerHTML" });
  }, 100);

  function markRead() {
    if (!conversationId) return Promise.resolve();
    return fetch("/chat/" + conversationId + "/read", {
      method: "POST", headers: { "x-csrftoken": csrf }, credentials: "same-origin",
    }).then(refreshList, refreshList);
  }

  function scrollDown() {
    if (thread) thread.scrollTop = thread.scrollHeight;
  }

  // --- live events ------------------------------------------------------------------------------
  function about(detail) { return detail && detail.conversation_id === conversationId; }

  document.addEventListener("pw:message_incoming", function (e) {
    refreshList();
    if (about(e.detail)) { refreshThread(); if (document.visibilityState === "visible") markRead(); }
  });
  ["pw:message_outgoing", "pw:message_status"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      refreshList();
      if (about(e.detail)) refreshThread();
    });
  });
  document.addEventListener("pw:reaction", function () { if (conversationId) refreshThread(); });
  document.addEventListener("pw:conversation_updated", refreshList);
  document.addEventListener("pw:socket", function (e) {
    if (e.detail.connected && e.detail.reconnected) { refreshList(); refreshThread(); }
  });

  if (!composer) return;

  // --- composer -----------------------------------------------------------------------------------
  const errorLine = document.getElementById("composer-error");
  const templateSelect = document.getElementById("composer-template");
  const paramsBox = document.getElementById("template-params");
  const templateBody = document.getElementById("template-body");
  const replyTo = document.getElementById("reply-to");
  const replying = document.getElementById("replying");
  const panels = composer.querySelectorAll("[data-mode-panel]");
  const flowSelect = document.getElementById("composer-flow");
  const flowScreen = document.getElementById("composer-flow-screen");
  const screenHint = flowScreen ? flowScreen.placeholder : "";

  function setWindow(open) {
    // Outside the 24-hour window only a template may be sent: every other mode is disabled.
    composer.dataset.windowOpen = open ? "true" : "false";
    const tpl = composer.querySelector("input[name=mode][value=template]");
    composer.querySelectorAll("input[name=mode]").forEach(function (radio) {
      if (radio !== tpl) radio.disabled = !open;
    });
    const chosen = composer.querySelector("input[name=mode]:checked");
    if (!open) tpl.checked = true;
    else if (!chosen || chosen.disabled) composer.querySelector("input[name=mode][value=text]").checked = true;
    const state = document.getElementById("window-state");
    if (state) state.textContent = open ? "24-hour window open" : "window closed: templates only";
    applyMode();
  }

  function currentMode() {
    const mode = composer.querySelector("input[name=mode]:checked");
    return mode ? mode.value : "text";
  }

  function applyMode() {
    const mode = currentMode();
    const template = mode === "template";
    composer.classList.toggle("template-mode", template);
    composer.classList.toggle("panel-mode", mode !== "text" && !template);
    templateSelect.required = template;
    paramsBox.querySelectorAll("input[data-param]").forEach(function (input) { input.required = template; });
    panels.forEach(function (panel) {
      const on = panel.dataset.modePanel === mode;
      panel.hidden = !on;
      panel.disabled = !on; // a disabled fieldset's fields are neither checked nor sent
    });
  }

  function showFirstScreen() {
    if (!flowSelect || !flowScreen) return;
    const option = flowSelect.selectedOptions[0];
    const screen = option && option.dataset.screen;
    flowScreen.placeholder = screen ? screen + " (its first screen)" : screenHint;
  }

  function catalogValue() {
    const filled = Array.prototype.find.call(composer.querySelectorAll("[data-catalog]"), function (input) {
      return input.value;
    });
    return filled ? filled.value : "";
  }

  function renderParams() {
    paramsBox.textContent = "";
    const option = templateSelect.selectedOptions[0];
    templateBody.textContent = option ? option.dataset.body || "" : "";
    if (!option || !option.value) return;
    let params = { header: [], body: [] };
    try { params = JSON.parse(option.dataset.params || "{}"); } catch (_) { /* no parameters */ }
    ["header", "body"].forEach(function (part) {
      const names = params[part] || [];
      const hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = part + "_names"; hidden.value = JSON.stringify(names);
      paramsBox.appendChild(hidden);
      names.forEach(function (name, index) {
        const label = document.createElement("label");
        label.textContent = part + " {{" + name + "}} ";
        const input = document.createElement("input");
        input.name = part + "_" + index; input.required = true; input.maxLength = 1024;
        input.dataset.param = name;
        label.appendChild(input);
        paramsBox.appendChild(label);
      });
    });
    applyMode();
  }

  composer.addEventListener("change", function (e) {
    if (e.target.name === "mode") applyMode();
    if (e.target === templateSelect) renderParams();
    if (e.target === flowSelect) showFirstScreen();
  });
  composer.addEventListener("input", function (e) {
    // One catalog id for the Product and Products modes: typing it in one fills the other.
    if (!e.target.matches || !e.target.matches("[data-catalog]")) return;
    composer.querySelectorAll("[data-catalog]").forEach(function (input) {
      if (input !== e.target) input.value = e.target.value;
    });
  });
  // --- attachment: the chosen file, a picture shown as it will be sent -------------------------------
  const fileInput = document.getElementById("composer-file");
  const attachment = document.getElementById("composer-attachment");
  const attachmentImage = document.getElementById("composer-attachment-image");
  let attachmentUrl = null;

  function showAttachment() {
    if (attachmentUrl) { URL.revokeObjectURL(attachmentUrl); attachmentUrl = null; }
    const file = fileInput.files && fileInput.files[0];
    attachment.hidden = !file;
    attachmentImage.hidden = true;
    attachmentImage.removeAttribute("src");
    document.getElementById("composer-attachment-name").textContent = file
      ? file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)" : "";
    if (file && /^image\//.test(file.type)) {
      attachmentUrl = URL.createObjectURL(file);
      attachmentImage.src = attachmentUrl;
      attachmentImage.hidden = false;
    }
  }

  fileInput.addEventListener("change", showAttachment);
  document.getElementById("composer-attachment-remove").addEventListener("click", function () {
    fileInput.value = "";
    showAttachment();
  });

  // --- typing indicator -----------------------------------------------------------------------------
  // While the agent writes, the customer sees "typing…" on their last message (Meta shows it for up to
  // 25 s or until the reply): one POST per conversation every TYPING_EVERY_MS at most, remembered for
  // the browser tab, and only with the 24-hour window open and a customer message to show it on. A
  // refusal or a network error is no concern of the agent's: it is ignored.
  const TYPING_EVERY_MS = 20000;
  const typingKey = "pw:typing:" + conversationId;
  let typingAt = 0;

  function lastTyping() {
    try { return Math.max(typingAt, Number(sessionStorage.getItem(typingKey)) || 0); }
    catch (_) { return typingAt; }
  }

  function indicateTyping() {
    if (composer.dataset.windowOpen !== "true" || composer.dataset.hasInbound !== "true") return;
    const now = Date.now();
    const since = now - lastTyping();
    if (since >= 0 && since < TYPING_EVERY_MS) return;
    typingAt = now;
    try { sessionStorage.setItem(typingKey, String(now)); } catch (_) { /* memory only */ }
    fetch("/chat/" + conversationId + "/typing", {
      method: "POST", headers: { "x-csrftoken": csrf }, credentials: "same-origin",
    }).catch(function () { /* the customer just does not see it */ });
  }

  composer.addEventListener("input", function (e) {
    const field = e.target;
    if (!field.matches || !field.matches("textarea, input:not([type]), input[type=text]")) return;
    if (field.value) indicateTyping();
  });
  composer.addEventListener("keydown", function (e) {
    // Enter sends, Shift+Enter makes a new line, as in WhatsApp's own clients.
    if (e.key === "Enter" && !e.shiftKey && e.target.id === "composer-body") {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  document.addEventListener("click", function (e) {
    const button = e.target.closest && e.target.closest("[data-reply]");
    if (button) {
      replyTo.value = button.dataset.reply;
      document.getElementById("replying-text").textContent = button.dataset.replyText || "";
      replying.hidden = false;
      document.getElementById("composer-body").focus();
    }
    if (e.target.id === "cancel-reply") { replyTo.value = ""; replying.hidden = true; }
  });
  composer.addEventListener("htmx:beforeRequest", function () { errorLine.textContent = ""; });
  composer.addEventListener("htmx:afterRequest", function (e) {
    if (!e.detail.successful) { errorLine.textContent = "Could not send (" + e.detail.xhr.status + ")"; return; }
    if (e.detail.xhr.getResponseHeader("HX-Retarget")) return; // refused: the reason is in errorLine
    // Sent: the fields empty, but the agent stays in the chosen mode with the catalog id at hand.
    const mode = currentMode();
    const catalog = catalogValue();
    composer.reset(); replyTo.value = ""; replying.hidden = true; paramsBox.textContent = "";
    showAttachment();
    templateBody.textContent = "";
    const again = composer.querySelector("input[name=mode][value=" + mode + "]");
    if (again && !again.disabled) again.checked = true;
    composer.querySelectorAll("[data-catalog]").forEach(function (input) { input.value = catalog; });
    showFirstScreen();
    setWindow(composer.dataset.windowOpen === "true");
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target !== thread) return;
    const state = thread.querySelector(".thread-state");
    if (state) {
      composer.dataset.hasInbound = state.dataset.hasInbound || "false";
      setWindow(state.dataset.windowOpen === "true");
    }
    scrollDown();
  });

  setWindow(composer.dataset.windowOpen === "true");
  scrollDown();
  markRead();
})();
