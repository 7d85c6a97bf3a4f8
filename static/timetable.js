// timetable.js: a parents' evening as each side sees it. A family sees its
// own appointment: when it starts (in the lobby), the time left (in the
// call), the wrap-up notice. The teacher sees the timetable panel. Times
// count down by the server's clock (each message says what time it is
// there), whatever the clock of this computer says. Names are set with
// textContent only.

import { byId } from './dom.js';

/** @typedef {import('./protocol.js').Appointment} Appointment */
/** @typedef {import('./protocol.js').Timetable} Timetable */
/** @typedef {import('./protocol.js').TimetableEntry} TimetableEntry */

/** "4 min", "1 min", "less than a minute". @param {number} ms */
function minutes(ms) {
  const m = Math.ceil(ms / 60000);
  return m <= 1 ? (ms > 0 ? 'less than a minute' : 'now') : `${m} min`;
}

/** "4:05". @param {number} ms */
function clock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A time of day in the viewer's zone. @param {string} iso */
function timeOfDay(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
}

export class Timekeeping {
  /**
   * @param {(msg: Record<string, unknown>) => void} send
   * @param {string} thanksURL where a family goes when its appointment is over ("" if none)
   */
  constructor(send, thanksURL) {
    this.send = send;
    this.thanksURL = thanksURL;
    /** The server's clock minus ours, from the latest message. */
    this.skew = 0;
    /** @type {Appointment|null} */
    this.mine = null;
    /** @type {Timetable|null} */
    this.table = null;
    /** @type {number|undefined} */
    this.timer = undefined;
    /** The appointment the notes box is about, and its text as last saved. */
    this.notesBooking = '';
    this.notesSaved = '';
    const panel = document.getElementById('timetable-panel');
    if (panel) this.wirePanel(panel);
  }

  /** Milliseconds until an RFC 3339 time, by the server's clock. @param {string} iso */
  until(iso) {
    return Date.parse(iso) - (Date.now() + this.skew);
  }

  /** @param {string} now the server's time */
  sync(now) {
    const at = Date.parse(now);
    if (!Number.isNaN(at)) this.skew = at - Date.now();
    if (this.timer === undefined) this.timer = window.setInterval(() => this.render(), 1000);
  }

  /** The family's appointment changed. @param {Appointment} m */
  appointment(m) {
    this.sync(m.now);
    this.mine = m;
    if (m.status === 'over') {
      this.over();
      return;
    }
    if (m.status === 'running' && this.until(m.ends_at) > 60000) byId('wrap-up').hidden = true; // extended
    this.render();
  }

  /** The appointment is over: the thank-you page, or a thank-you here. */
  over() {
    this.stop();
    if (this.thanksURL) window.location.assign(this.thanksURL);
  }

  /** A timetable command was refused. @param {string} message */
  refused(message) {
    const el = document.getElementById('timetable-error');
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
  }

  /** A minute left. @param {{ends_at: string}} m */
  wrapUp(m) {
    const el = byId('wrap-up');
    el.textContent = `One minute left: time to wrap up (the appointment ends at ${timeOfDay(m.ends_at)}).`;
    el.hidden = false;
  }

  /** The teacher's timetable changed. @param {Timetable} m */
  timetable(m) {
    this.sync(m.now);
    this.table = m;
    const panel = document.getElementById('timetable-panel');
    if (!panel) return;
    panel.hidden = false;
    byId('timetable-error').hidden = true;
    byId('extend').hidden = !(m.current && m.can_extend);
    byId('end-appointment').hidden = !m.current;
    if (!m.current || this.until(m.current.ends_at) > 60000) byId('wrap-up').hidden = true; // a new call, or extended
    byId('timetable-late').textContent = m.minutes_late > 0 ? `Running ${m.minutes_late} min late` : 'On time';
    this.list('timetable-waiting', m.next.filter((e) => e.waiting), (e) => `${e.family} (${e.students}), due ${timeOfDay(e.expected_at)}`);
    this.list('timetable-next', m.next, (e) => `${timeOfDay(e.starts_at)} ${e.family} (${e.students})${e.expected_at !== e.starts_at ? `, expected ${timeOfDay(e.expected_at)}` : ''}${e.waiting ? ' · waiting' : ''}`);
    this.list('timetable-noshows', m.no_shows, (e) => `${timeOfDay(e.starts_at)} ${e.family} (${e.students})`);
    if (m.current) this.notesOn(m.current);
    this.render();
  }

  /**
   * The notes box follows the appointment in progress and stays on the
   * last one after its call, so the teacher can finish writing. What was
   * typed and not saved is saved before the box moves on.
   * @param {TimetableEntry} cur
   */
  notesOn(cur) {
    const form = document.getElementById('appointment-notes');
    if (!form || cur.booking === this.notesBooking) return;
    const text = /** @type {HTMLTextAreaElement} */ (byId('appointment-notes-text'));
    if (this.notesBooking && text.value !== this.notesSaved) void this.saveNotes();
    const booking = cur.booking;
    this.notesBooking = booking;
    this.notesSaved = '';
    byId('appointment-notes-family').textContent = `${cur.family} (${cur.students})`;
    byId('appointment-notes-status').textContent = '';
    text.value = '';
    text.disabled = true;
    form.hidden = false;
    fetch(this.notesURL(booking), { headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((/** @type {{notes: string}} */ j) => {
        if (this.notesBooking !== booking) return;
        text.value = j.notes;
        this.notesSaved = j.notes;
        text.disabled = false;
      })
      .catch(() => {
        if (this.notesBooking === booking) byId('appointment-notes-status').textContent = 'Your earlier notes could not be loaded: reload the page to write notes.';
      });
  }

  /** @param {string} booking */
  notesURL(booking) {
    return `${/** @type {HTMLElement} */ (byId('appointment-notes')).dataset.notes}${booking}/notes`;
  }

  /** Saves the notes box to the appointment it belongs to. */
  async saveNotes() {
    const booking = this.notesBooking;
    const body = /** @type {HTMLTextAreaElement} */ (byId('appointment-notes-text')).value;
    const status = byId('appointment-notes-status');
    if (!booking) return;
    try {
      const r = await fetch(this.notesURL(booking), {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ notes: body }),
      });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error ?? String(r.status));
      if (this.notesBooking === booking) {
        this.notesSaved = body;
        status.textContent = `Saved at ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`;
      }
    } catch (e) {
      status.textContent = `Not saved: ${e instanceof Error ? e.message : e}. Your text is still here: try again.`;
    }
  }

  /** @param {string} id @param {TimetableEntry[]} entries @param {(e: TimetableEntry) => string} text */
  list(id, entries, text) {
    const ul = byId(id);
    ul.replaceChildren(...entries.map((e) => {
      const li = document.createElement('li');
      li.textContent = text(e);
      return li;
    }));
    const empty = document.getElementById(`${id}-empty`);
    if (empty) empty.hidden = entries.length > 0;
  }

  /** The countdowns, once a second. */
  render() {
    const m = this.mine;
    if (m && m.status === 'waiting') {
      const left = this.until(m.expected_at);
      const late = m.expected_at !== m.starts_at ? ` (planned for ${timeOfDay(m.starts_at)}: the teacher is running late)` : '';
      const el = byId('appointment-countdown');
      el.hidden = false;
      el.textContent = left > 0
        ? `Your appointment with ${m.teacher} starts in ${minutes(left)}, at ${timeOfDay(m.expected_at)}${late}. You will be let in then.`
        : `Your appointment with ${m.teacher} is due now${late}. You will be let in as soon as the teacher is free.`;
    }
    if (m && m.status === 'running') {
      const el = byId('call-countdown');
      el.hidden = false;
      el.textContent = `Time left: ${clock(this.until(m.ends_at))} (until ${timeOfDay(m.ends_at)})`;
    }
    const cur = this.table?.current;
    const now = document.getElementById('timetable-current');
    if (now) {
      now.textContent = cur ? `Now: ${cur.family} (${cur.students})` : 'No appointment in progress.';
      byId('timetable-countdown').textContent = cur ? `Time left: ${clock(this.until(cur.ends_at))} (until ${timeOfDay(cur.ends_at)})` : '';
    }
  }

  stop() {
    if (this.timer !== undefined) window.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** @param {HTMLElement} panel */
  wirePanel(panel) {
    document.getElementById('appointment-notes')?.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.saveNotes();
    });
    byId('extend').addEventListener('click', () => this.send({ type: 'extend' }));
    byId('end-appointment').addEventListener('click', () => {
      if (window.confirm('End this appointment now? The family will be moved out.')) this.send({ type: 'end_appointment' });
    });
    for (const b of panel.querySelectorAll('[data-late]')) {
      b.addEventListener('click', () => this.send({ type: 'running_late', minutes: Number(/** @type {HTMLElement} */ (b).dataset.late) }));
    }
  }
}
