// The management pages (contacts, groups, templates, campaigns, settings): refusals shown beside the
// form that was sent, and live progress from the events app.js turns into "pw:<type>" DOM events.
(function () {
  "use strict";

  // A refusal (4xx) comes back as a short HTML notice: show it in the form's [data-errors] instead of
  // swapping it over the target (htmx does not swap error answers by itself).
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    const form = source && (source.closest("form") || source);
    const box = form && (form.querySelector("[data-errors]") || document.querySelector("[data-page-errors]"));
    if (status >= 400) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      if (box) {
        box.innerHTML = event.detail.xhr.responseText || "<p class='notice error' role='alert'>Refused (" + status + ")</p>";
        const field = form.querySelector("input:not([type=hidden]), select, textarea");
        if (field && form.contains(document.activeElement) === false) field.focus();
      }
    } else if (box) {
      box.innerHTML = "";
    }
  });

  function setText(root, name, value) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (node) {
      node.textContent = value;
    });
  }

  // --- contact imports -----------------------------------------------------------------------------
  document.addEventListener("pw:contact_import_progress", function (event) {
    const job = event.detail || {};
    const card = document.querySelector('[data-import-id="' + job.id + '"]');
    if (!card) return;
    const total = job.total_rows || 0;
    const percent = total === 0 ? 100 : Math.min(100, Math.floor((job.processed * 100) / total));
    ["processed", "total_rows", "created", "updated", "rejected", "status"].forEach(function (name) {
      setText(card, name, job[name]);
    });
    setText(card, "percent", percent);
    const bar = card.querySelector("progress");
    if (bar) bar.value = percent;
    card.dataset.status = job.status;
    if ((job.status === "completed" || job.status === "failed") && window.htmx) {
      // The finished card carries the report of rejected rows; the list shows the new contacts.
      htmx.ajax("GET", "/contacts/imports/" + job.id, { target: card, swap: "outerHTML" });
      const list = document.getElementById("contact-list");
      if (list) htmx.ajax("GET", "/contacts" + location.search, { target: list, swap: "innerHTML" });
    }
  });

  // --- campaigns -----------------------------------------------------------------------------------
  function showCampaign(data) {
    document.querySelectorAll('[data-campaign-id="' + data.id + '"]').forEach(function (root) {
      const counts = data.counts || {};
      Object.keys(counts).forEach(function (state) { setText(root, "count-" + state, counts[state]); });
      if (data.status) {
        setText(root, "status", data.status);
        root.dataset.status = data.status;
      }
      if (data.counts) {
        const total = counts.total || 0;
        const done = total - (counts.pending || 0) - (counts.sending || 0);
        const percent = total === 0 ? 0 : Math.floor((done * 100) / total);
        setText(root, "percent", percent);
        const bar = root.querySelector("progress");
        if (bar) bar.value = percent;
      }
      if (root.dataset.refresh && window.htmx && data.status !== root.dataset.shownStatus) {
        // Controls depend on the status (pause only while running...): fetch them again when it changes.
        root.dataset.shownStatus = data.status;
        htmx.ajax("GET", root.dataset.refresh, { target: root, swap: "outerHTML" });
      }
    });
    const report = document.querySelector('[data-recipients-of="' + data.id + '"]');
    if (report && window.htmx && !report.dataset.loading) {
      report.dataset.loading = "1";
      setTimeout(function () {
        htmx.ajax("GET", report.dataset.source, { target: report, swap: "outerHTML" });
      }, 1000);
    }
  }
  document.addEventListener("pw:campaign_progress", function (event) { showCampaign(event.detail || {}); });
  document.addEventListener("pw:campaign_completed", function (event) {
    const data = event.detail || {};
    showCampaign({ id: data.id || data.campaign_id, status: "completed", counts: data.counts });
  });

  // --- templates -----------------------------------------------------------------------------------
  document.addEventListener("pw:template_status", function (event) {
    const data = event.detail || {};
    document.querySelectorAll('[data-template-id="' + data.id + '"]').forEach(function (row) {
      setText(row, "status", data.status);
      if (data.quality_score) setText(row, "quality", data.quality_score);
    });
  });

  // A form marked data-reset-on-success is emptied once its post succeeded (ready for the next one). The
  // page policy has no 'unsafe-eval', so htmx cannot run hx-on attributes: this does it from here.
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
      form.reset();
    }
  });

  // --- QR codes: each code's count follows the inbound messages (a scan is a message) ---------------
  let qrRefresh = null;
  document.addEventListener("pw:message_incoming", function () {
    if (!document.querySelector("[data-qr-codes]")) return;
    clearTimeout(qrRefresh);
    qrRefresh = setTimeout(function () {
      fetch("/api/v1/qr-codes?limit=200", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          ((body && body.data && body.data.items) || []).forEach(function (qr) {
            const row = document.querySelector('[data-qr-code="' + CSS.escape(qr.code) + '"]');
            if (!row) return;
            setText(row, "messages", qr.messages);
            if (qr.last_message_at) {
              setText(row, "last-message", "last " + qr.last_message_at.slice(0, 16).replace("T", " ") + " UTC");
            }
          });
        })
        .catch(function () { /* the next message, or a reload, shows the counts */ });
    }, 300);
  });

  // After a reconnect, events were missed: show the page as it is now.
  document.addEventListener("pw:socket", function (event) {
    if (event.detail && event.detail.reconnected && document.querySelector("[data-live-page]")) {
      location.reload();
    }
  });
})();

// --- a group's page: its thread follows the messages of the group --------------------------------------
// A message someone wrote in the group comes with its group_id; ours (and their statuses) go to the group's
// WhatsApp id; any other change is to a message the thread shows. The thread is fetched again, and kept
// scrolled to its newest message.
(function () {
  "use strict";

  function groupThread() { return document.querySelector("[data-group-thread]"); }

  function toNewest(thread) { thread.scrollTop = thread.scrollHeight; }

  let pending = null;
  function follow(event) {
    const thread = groupThread();
    if (!thread || !window.htmx) return;
    const data = event.detail || {};
    const waId = thread.dataset.groupWaId;
    const shown = data.id && thread.querySelector('[data-message-id="' + CSS.escape(String(data.id)) + '"]');
    if (data.group_id !== thread.dataset.groupThread && !(waId && data.wa_id === waId) && !shown) return;
    clearTimeout(pending);
    pending = setTimeout(function () {
      htmx.ajax("GET", thread.dataset.source, { target: thread, swap: "innerHTML" });
    }, 150);
  }
  ["pw:message_incoming", "pw:message_outgoing", "pw:message_status"].forEach(function (name) {
    document.addEventListener(name, follow);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const thread = groupThread();
    if (thread && event.detail.target === thread) toNewest(thread);
  });
  document.addEventListener("DOMContentLoaded", function () {
    const thread = groupThread();
    if (thread) toNewest(thread);
  });
})();

// A refusal (4xx) is shown beside its form and counted as handled (isError false above), which htmx reports
// as `successful`: a form marked data-reset-on-success would lose what was typed, to be corrected. This
// runs first (the capture phase) and tells the reset a refusal is no success.
document.addEventListener("htmx:afterRequest", function (event) {
  const xhr = event.detail && event.detail.xhr;
  if (xhr && xhr.status >= 400) event.detail.successful = false;
}, true);
