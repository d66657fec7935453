// Progressive enhancement only: every form works without it (and the CSP allows no inline script).

// Zones a browser reports when it does not know where it is (a machine left on UTC).
const NO_ZONE = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Unknown", "Etc/Universal", "Universal", "Zulu"]);

// Pre-select the browser's time zone when the server had no better idea. When the browser gives
// none, the server's default stays: the organisation's zone (FIKA_TIMEZONE).
function preselectZone() {
  const select = document.getElementById("timezone");
  if (!select || select.dataset.userChosen || document.querySelector(".alert")) return;
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && !NO_ZONE.has(zone) && [...select.options].some((o) => o.value === zone)) {
      select.value = zone;
    }
  } catch (e) { /* older browsers: keep the server's default */ }
}

// Preferences: a weekday that is not ticked has no office to choose, so its menu is disabled
// (the server keeps that day's office as it was).
function linkDaysToOffices() {
  for (const box of document.querySelectorAll("table.days input[type=checkbox]")) {
    const menu = box.closest("tr") && box.closest("tr").querySelector("select");
    if (!menu) continue;
    const sync = () => { menu.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  }
}

// Preferences: the avoid list suggests colleagues as you type (a datalist filled from
// /me/colleagues); picking one adds a ticked box to the list, as the Search button would.
function suggestColleagues() {
  const input = document.querySelector("input[data-suggest]");
  const list = input && document.getElementById(input.getAttribute("list"));
  const chosen = document.getElementById("avoid-list");
  const status = document.getElementById("avoid-status");
  if (!input || !list || !chosen) return;
  let found = new Map(); // shown text -> person
  let timer = null;
  let asked = "";

  const label = (p) => `${p.name} (${p.department})`;

  function add(person) {
    let box = document.getElementById(`avoid-${person.id}`);
    if (!box) {
      const item = document.createElement("li");
      const tag = document.createElement("label");
      tag.className = "check";
      tag.htmlFor = `avoid-${person.id}`;
      box = document.createElement("input");
      box.type = "checkbox";
      box.id = `avoid-${person.id}`;
      box.name = "avoid";
      box.value = String(person.id);
      const dept = document.createElement("span");
      dept.className = "muted";
      dept.textContent = `(${person.department})`;
      tag.append(box, ` ${person.name} `, dept);
      item.append(tag);
      chosen.prepend(item);
    }
    box.checked = true;
    input.value = "";
    if (status) status.textContent = `${person.name} is in your list; save your preferences to keep it.`;
  }

  async function ask(query) {
    asked = query;
    try {
      const response = await fetch(`${input.dataset.suggest}?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!response.ok || asked !== query) return;
      const people = (await response.json()).people || [];
      found = new Map(people.map((p) => [label(p), p]));
      list.replaceChildren(...people.map((p) => {
        const option = document.createElement("option");
        option.value = label(p);
        return option;
      }));
    } catch (e) { /* offline or signed out: the Search button still works */ }
  }

  input.addEventListener("input", () => {
    const text = input.value.trim();
    const picked = found.get(text);
    if (picked) { add(picked); return; }
    clearTimeout(timer);
    if (text.length >= 2) timer = setTimeout(() => ask(text), 150);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  preselectZone();
  linkDaysToOffices();
  suggestColleagues();
});
