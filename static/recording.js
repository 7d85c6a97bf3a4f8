// recording.js: what the room shows of a recording — the REC indicator
// everyone sees, the question whether you agree to be recorded, and, for
// hosts, the record button and everyone's answers. The server decides
// what is recorded; this page shows it and passes answers on.

import { byId } from './dom.js';
/** @typedef {{active: boolean, started_at?: string, by?: string, consent: string}} RecordingStatus */
/** @typedef {{participant: string, name: string, answer: string, at: string}} ConsentEntry */

const ANSWERS = /** @type {Record<string, string>} */ ({ pending: 'not answered yet', accepted: 'agreed', declined: 'declined: not recorded' });

export class Recording {
  /**
   * @param {(msg: Record<string, unknown>) => void} send
   * @param {(text: string) => void} announce
   */
  constructor(send, announce) {
    this.send = send;
    this.announce = announce;
    /** @type {RecordingStatus} */
    this.status = { active: false, consent: '' };
    this.role = '';
    this.allowed = byId('app').dataset.recording === 'allowed';
    this.busy = false;
    byId('consent-yes').addEventListener('click', () => this.answer(true));
    byId('consent-no').addEventListener('click', () => this.answer(false));
    byId('consent-change').addEventListener('click', () => this.answer(this.status.consent !== 'accepted'));
    byId('toggle-recording').addEventListener('click', () => this.toggle());
  }

  /** @param {string} role */
  setRole(role) {
    this.role = role;
    this.render();
  }

  /** The server's word on the recording. @param {RecordingStatus} status */
  update(status) {
    const was = this.status.active;
    this.status = status;
    this.busy = false;
    if (status.active && !was) this.announce(`This meeting is now being recorded${status.by ? ` by ${status.by}` : ''}.`);
    if (!status.active && was) this.announce('The recording has stopped.');
    this.render();
  }

  /** Everyone's answers, for hosts. @param {ConsentEntry[]} entries */
  consents(entries) {
    const list = byId('consents-list');
    list.replaceChildren();
    for (const e of entries) {
      const li = document.createElement('li');
      li.className = `consent ${e.answer}`;
      li.dataset.testid = 'consent-entry';
      li.dataset.answer = e.answer;
      const name = document.createElement('strong');
      name.textContent = e.name;
      li.append(name, ` — ${ANSWERS[e.answer] || e.answer}`);
      list.append(li);
    }
  }

  /** A refusal from the server about recording. @param {string} message */
  failed(message) {
    this.busy = false;
    this.announce(message);
    const notice = byId('consent-status');
    byId('consent-status-text').textContent = message;
    byId('consent-change').hidden = true;
    notice.hidden = false;
    this.render();
  }

  get moderator() { return this.role === 'host' || this.role === 'cohost'; }

  /** @param {boolean} accept */
  answer(accept) {
    this.send({ type: 'consent', accept });
  }

  toggle() {
    if (this.busy) return;
    if (this.status.active) {
      if (!window.confirm('Stop recording?')) return;
      this.send({ type: 'stop_recording' });
    } else {
      this.send({ type: 'start_recording' });
    }
    this.busy = true;
    this.render();
  }

  render() {
    const s = this.status;
    const badge = byId('rec-badge');
    badge.hidden = !s.active;
    if (s.active) {
      const since = s.started_at ? new Date(s.started_at).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' }) : '';
      badge.title = `Recorded since ${since}${s.by ? ` by ${s.by}` : ''}`;
      badge.setAttribute('aria-label', `This meeting is being recorded. ${badge.title}`);
    }
    byId('lobby-recording').hidden = !s.active;

    const dialog = byId('consent');
    dialog.hidden = !(s.active && s.consent === 'pending');
    if (!dialog.hidden) {
      byId('consent-text').textContent = `${s.by || 'The host'} is recording this meeting. Do you agree to your camera and microphone being recorded? If you do not, nothing of yours is recorded, and you can still take part.`;
    }
    const status = byId('consent-status');
    const change = byId('consent-change');
    if (s.active && (s.consent === 'accepted' || s.consent === 'declined')) {
      const declined = s.consent === 'declined';
      byId('consent-status-text').textContent = declined
        ? 'You declined: your camera and microphone are not being recorded.'
        : 'You agreed: your camera and microphone are being recorded.';
      change.textContent = declined ? 'Agree to be recorded' : 'Stop recording me';
      change.hidden = false;
      status.hidden = false;
    } else if (!s.active && !change.hidden) {
      status.hidden = true;
    }

    const button = /** @type {HTMLButtonElement} */ (byId('toggle-recording'));
    button.hidden = !(this.allowed && this.moderator);
    button.textContent = s.active ? 'Stop recording' : 'Record';
    button.setAttribute('aria-pressed', String(s.active));
    button.disabled = this.busy;
    byId('consents').hidden = !(s.active && this.moderator);
  }
}
