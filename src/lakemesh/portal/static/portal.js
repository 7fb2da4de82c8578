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

// Elements marked data-fragment load a piece of page from this origin in their place (the
// sample rows of a product's tables, which need the query engine): the page shows at once,
// and without script the link inside them opens the same content as a page.
document.addEventListener("DOMContentLoaded", () => {
  for (const slot of document.querySelectorAll("[data-fragment]")) {
    fetch(slot.dataset.fragment, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const parsed = new DOMParser().parseFromString(html, "text/html");
        slot.replaceChildren(...parsed.body.childNodes);
      })
      .catch(() => {
        // keep the link: it opens the sample as a page
      });
  }
});
