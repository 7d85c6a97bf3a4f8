// app.js: small enhancements for every page. Everything works without it;
// it only makes times local, links copyable and time zones easy to pick.

/** Show each <time data-local> in the visitor's own time zone. */
function localTimes() {
  for (const el of document.querySelectorAll('time[data-local]')) {
    const at = new Date(el.getAttribute('datetime') || '');
    if (Number.isNaN(at.getTime())) continue;
    /** @type {Intl.DateTimeFormatOptions} */
    const opts = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
    el.textContent = new Intl.DateTimeFormat(undefined, opts).format(at);
  }
}

/** Buttons with data-copy="<input id>" copy that input's value. */
function copyButtons() {
  for (const btn of document.querySelectorAll('button[data-copy]')) {
    if (!(btn instanceof HTMLButtonElement)) continue;
    btn.hidden = false;
    btn.addEventListener('click', async () => {
      const input = /** @type {HTMLInputElement|null} */ (document.getElementById(btn.dataset.copy || ''));
      if (!input) return;
      const label = btn.textContent;
      try {
        await navigator.clipboard.writeText(input.value);
        btn.textContent = 'Copied';
      } catch {
        input.select();
        btn.textContent = 'Press Ctrl+C';
      }
      setTimeout(() => { btn.textContent = label; }, 2000);
    });
  }
}

/** Fill the time zone suggestions, and pre-fill empty zone fields with the browser's zone. */
function timeZones() {
  const list = document.getElementById('time-zones');
  if (list && 'supportedValuesOf' in Intl) {
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      const opt = document.createElement('option');
      opt.value = zone;
      list.append(opt);
    }
  }
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const input of document.querySelectorAll('input[data-default-zone]')) {
    if (input instanceof HTMLInputElement && input.value === '' && here) input.value = here;
  }
}

/** Forms with data-confirm ask before submitting. */
function confirmations() {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (ev) => {
      if (!window.confirm(form.getAttribute('data-confirm') || 'Are you sure?')) ev.preventDefault();
    });
  }
}

localTimes();
copyButtons();
timeZones();
confirmations();
