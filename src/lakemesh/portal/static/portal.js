// lakemesh portal: small progressive enhancements only; every page works without script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms marked data-confirm ask before they are sent (revoke, reject, ...).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  // Selects marked data-autosubmit send their form when changed (facet pickers).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // An element marked data-refresh-ms (a query job still running) reloads its page after that
  // many milliseconds; without script its page offers a link that does the same.
  const refreshing = document.querySelector("[data-refresh-ms]");
  if (refreshing) {
    window.setTimeout(() => window.location.reload(), Number(refreshing.dataset.refreshMs));
  }
});
