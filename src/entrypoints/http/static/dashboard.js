// /dashboard: active campaigns follow their progress events live.
(function () {
  "use strict";
  document.addEventListener("pw:campaign_progress", function (e) {
    const c = e.detail || {};
    const row = document.querySelector('[data-campaign-id="' + c.campaign_id + '"]');
    if (!row) { htmx.ajax("GET", "/dashboard/campaigns", { target: "#active-campaigns", swap: "innerHTML" }); return; }
    const n = c.counts || {};
    const open = (n.pending || 0) + (n.sending || 0);
    const done = (n.total || 0) - open;
    const bar = row.querySelector("progress");
    bar.max = n.total || 1; bar.value = done;
    row.querySelector(".campaign-status").textContent = c.status;
    row.querySelector(".campaign-counts").textContent = done + " of " + (n.total || 0) + " done · sent " + (n.sent || 0)
      + " · delivered " + (n.delivered || 0) + " · read " + (n.read || 0) + " · failed " + (n.failed || 0);
  });
  document.addEventListener("pw:campaign_completed", function () {
    htmx.ajax("GET", "/dashboard/campaigns", { target: "#active-campaigns", swap: "innerHTML" });
  });
})();
