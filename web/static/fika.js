// Progressive enhancement only: the form works without it.
// Pre-select the browser's time zone when the server had no better idea.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("timezone");
  if (!select || select.dataset.userChosen || document.querySelector(".alert")) return;
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
  } catch (e) { /* older browsers: keep the server's default */ }
});
