// panels.js: the side panels of the room — people (with the hosts'
// controls), raised hands, and the chat. Text from other people is set with
// textContent only: a name or a message is never markup.

import { byId } from './dom.js';
/** An element every room page has; where one may be missing (the host's
 * lobby panel), document.getElementById and a check are used instead.
 * @param {string} id */

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').ChatEntry} ChatEntry */
/** @typedef {import('./protocol.js').HandEntry} HandEntry */
/** @typedef {import('./protocol.js').QualityDetail} QualityDetail */

const ROLE_NAMES = /** @type {Record<string, string>} */ ({ host: 'host', cohost: 'co-host', participant: '', observer: 'observer' });

export class Panels {
  /** @param {(msg: Record<string, unknown>) => void} send */
  constructor(send) {
    this.send = send;
    /** @type {Map<string, Participant>} */
    this.people = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    this.meId = '';
    this.myRole = '';
    this.unread = 0;
    this.handCount = 0;
    /** Who has a hand up, first raised first, as the latest queue said. @type {string[]} */
    this.handOrder = [];
    /** @type {Record<string, QualityDetail>} */
    this.details = {};
  }

  /** Open one side panel (and close the others), or close it. Whether it
   * opens is decided once, before anything changes: deciding per button
   * read back the panel the first of two buttons for it had just opened,
   * and the second closed it again. @param {string} id */
  toggle(id) {
    const target = document.getElementById(id);
    const opening = !!target && target.hidden;
    for (const panel of document.querySelectorAll('.side-panel')) {
      /** @type {HTMLElement} */ (panel).hidden = !(opening && panel.id === id);
    }
    for (const b of document.querySelectorAll('[data-panel]')) {
      b.setAttribute('aria-expanded', String(opening && b.getAttribute('data-panel') === id));
    }
    if (id === 'chat-panel' && !byId('chat-panel').hidden) this.setUnread(0);
  }

  /** Whether any side panel is open. */
  anyOpen() {
    return [...document.querySelectorAll('.side-panel')].some((el) => !/** @type {HTMLElement} */ (el).hidden);
  }

  /** @param {string} id */
  open(id) {
    const panel = document.getElementById(id);
    if (panel && panel.hidden) this.toggle(id);
  }

  /** Who we are, and whether the hosts' controls show. @param {string} id @param {string} role */
  setMe(id, role) {
    this.meId = id;
    this.myRole = role;
    const moderator = role === 'host' || role === 'cohost';
    for (const el of document.querySelectorAll('.host-only')) /** @type {HTMLElement} */ (el).hidden = !moderator;
    byId('toggle-hand').hidden = role !== 'participant';
    for (const [pid, row] of this.rows) this.fillRow(row, this.people.get(pid));
  }

  get moderator() { return this.myRole === 'host' || this.myRole === 'cohost'; }

  /** @param {Participant} p */
  upsert(p) {
    this.people.set(p.id, { ...(this.people.get(p.id) || {}), ...p });
    let row = this.rows.get(p.id);
    if (!row) {
      const tpl = /** @type {HTMLTemplateElement} */ (byId('person-template'));
      row = /** @type {HTMLElement} */ (tpl.content.firstElementChild?.cloneNode(true));
      row.dataset.participant = p.id;
      const id = p.id;
      for (const b of row.querySelectorAll('[data-act]')) {
        b.addEventListener('click', () => this.act(id, /** @type {HTMLElement} */ (b).dataset.act || ''));
      }
      this.rows.set(p.id, row);
      byId('people-list').append(row);
    }
    this.fillRow(row, this.people.get(p.id));
    this.reorder();
  }

  /** Where someone stands in the people list: raised hands first, in the
   * queue's order, then everyone else as they came. @param {string} id */
  rank(id) {
    if (!this.people.get(id)?.hand_raised_at) return Infinity;
    const i = this.handOrder.indexOf(id);
    return i >= 0 ? i : this.handOrder.length;
  }

  /** Put the people list in queue order, moving rows only when it changed
   * (a moved row loses the focus of a host about to press one of its buttons). */
  reorder() {
    const ids = [...this.rows.keys()];
    const sorted = ids.map((id, i) => ({ id, i, r: this.rank(id) }))
      .sort((a, b) => (a.r - b.r) || (a.i - b.i)).map((x) => x.id);
    const list = byId('people-list');
    const now = [...list.children].map((el) => /** @type {HTMLElement} */ (el).dataset.participant);
    if (sorted.every((id, i) => now[i] === id)) return;
    list.append(...sorted.map((id) => /** @type {HTMLElement} */ (this.rows.get(id))));
  }

  /** @param {HTMLElement} row @param {Participant|undefined} p */
  fillRow(row, p) {
    if (!p) return;
    const self = p.id === this.meId;
    /** @type {HTMLElement} */ (row.querySelector('.person-name')).textContent = self ? `${p.name} (you)` : p.name;
    /** @type {HTMLElement} */ (row.querySelector('.person-role')).textContent = ROLE_NAMES[p.role] || '';
    /** @type {HTMLElement} */ (row.querySelector('.person-hand')).hidden = !p.hand_raised_at;
    const notes = [];
    if (p.presence === 'away') notes.push('reconnecting');
    if (p.audio_blocked) notes.push('muted by host');
    else if (!p.audio && p.role !== 'observer') notes.push('muted');
    if (p.video_blocked) notes.push('video stopped by host');
    if (p.screen) notes.push('sharing screen');
    /** @type {HTMLElement} */ (row.querySelector('.person-state')).textContent = notes.join(' · ');
    const actions = /** @type {HTMLElement} */ (row.querySelector('.person-actions'));
    const target = p.role === 'participant' || p.role === 'observer' || (p.role === 'cohost' && this.myRole === 'host');
    actions.hidden = !this.moderator || self || !target;
    const roleBtn = /** @type {HTMLElement} */ (row.querySelector('[data-act="role"]'));
    roleBtn.textContent = p.role === 'cohost' ? 'Make participant' : 'Make co-host';
    roleBtn.hidden = this.myRole !== 'host';
    /** @type {HTMLElement} */ (row.querySelector('[data-act="observer"]')).hidden = this.myRole !== 'host' || p.role === 'observer';
    /** @type {HTMLElement} */ (row.querySelector('[data-act="allow-audio"]')).hidden = !p.audio_blocked;
    this.fillQuality(row, p.id);
  }

  /** @param {string} id */
  remove(id) {
    this.people.delete(id);
    this.rows.get(id)?.remove();
    this.rows.delete(id);
  }

  /** A host's action on someone. @param {string} id @param {string} act */
  act(id, act) {
    const p = this.people.get(id);
    if (!p) return;
    switch (act) {
      case 'mute-audio': this.send({ type: 'mute', participant: id, kind: 'audio' }); break;
      case 'mute-video': this.send({ type: 'mute', participant: id, kind: 'video' }); break;
      case 'mute-screen': this.send({ type: 'mute', participant: id, kind: 'screen' }); break;
      case 'ask-unmute': this.send({ type: 'ask_unmute', participant: id }); break;
      case 'allow-audio': this.send({ type: 'allow', participant: id, kind: 'audio' }); break;
      case 'role': this.send({ type: 'set_role', participant: id, role: p.role === 'cohost' ? 'participant' : 'cohost' }); break;
      case 'observer': this.send({ type: 'set_role', participant: id, role: 'observer' }); break;
      case 'lobby': this.send({ type: 'send_to_lobby', participant: id }); break;
      case 'remove':
        if (window.confirm(`Remove ${p.name} from the meeting? They can join again with their link.`)) this.send({ type: 'remove', participant: id, ban: false });
        break;
      case 'ban':
        if (window.confirm(`Remove ${p.name} and stop their link from letting them back in?`)) this.send({ type: 'remove', participant: id, ban: true });
        break;
    }
  }

  /** The raised hands, first raised first. @param {HandEntry[]} queue */
  hands(queue) {
    this.handOrder = queue.map((h) => h.participant);
    this.reorder();
    const list = byId('hands-list');
    list.replaceChildren();
    for (const h of queue) {
      const li = document.createElement('li');
      li.dataset.testid = 'hand';
      const name = document.createElement('span');
      name.textContent = h.name;
      li.append(name);
      if (this.moderator) {
        const allow = document.createElement('button');
        allow.type = 'button';
        allow.className = 'secondary';
        allow.textContent = 'Let speak';
        allow.addEventListener('click', () => this.send({ type: 'allow', participant: h.participant, kind: 'audio' }));
        const lower = document.createElement('button');
        lower.type = 'button';
        lower.className = 'secondary';
        lower.textContent = 'Lower';
        lower.dataset.testid = 'lower-hand';
        lower.addEventListener('click', () => this.send({ type: 'lower_hand', participant: h.participant }));
        li.append(' ', allow, ' ', lower);
      }
      list.append(li);
    }
    byId('hands-empty').hidden = queue.length > 0;
    const badge = byId('hands-badge');
    badge.textContent = String(queue.length);
    badge.hidden = queue.length === 0;
    const grew = queue.length > this.handCount;
    this.handCount = queue.length;
    return grew ? queue[queue.length - 1] : null;
  }

  /** Show a chat message. @param {ChatEntry} m */
  chat(m) {
    if (document.querySelector(`[data-message="${CSS.escape(m.id)}"]`)) return;
    const tpl = /** @type {HTMLTemplateElement} */ (byId('chat-template'));
    const li = /** @type {HTMLElement} */ (tpl.content.firstElementChild?.cloneNode(true));
    li.dataset.message = m.id;
    /** @type {HTMLElement} */ (li.querySelector('.chat-from')).textContent = m.from === this.meId ? `${m.from_name} (you)` : m.from_name;
    // The sender's role always shows, so nobody passes for the teacher by name.
    /** @type {HTMLElement} */ (li.querySelector('.chat-role')).textContent = ROLE_NAMES[m.from_role] || 'participant';
    /** @type {HTMLElement} */ (li.querySelector('.chat-to')).textContent = m.to === 'hosts' ? 'to the hosts' : '';
    const at = /** @type {HTMLTimeElement} */ (li.querySelector('.chat-at'));
    at.dateTime = m.at;
    at.textContent = new Date(m.at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    // Plain text: links stay text and are never loaded.
    /** @type {HTMLElement} */ (li.querySelector('.chat-text')).textContent = m.text;
    const del = /** @type {HTMLElement} */ (li.querySelector('.chat-delete'));
    del.hidden = !this.moderator;
    del.addEventListener('click', () => this.send({ type: 'delete_chat', id: m.id }));
    if (m.to === 'hosts') li.classList.add('private');
    const log = byId('chat-log');
    log.append(li);
    log.scrollTop = log.scrollHeight;
    if (byId('chat-panel').hidden && m.from !== this.meId) this.setUnread(this.unread + 1);
  }

  /** @param {ChatEntry[]} msgs */
  history(msgs) {
    byId('chat-log').replaceChildren();
    for (const m of msgs) this.chat(m);
    this.setUnread(0);
  }

  /** @param {string} id */
  chatDeleted(id) {
    document.querySelector(`[data-message="${CSS.escape(id)}"]`)?.remove();
  }

  /** @param {number} n */
  setUnread(n) {
    this.unread = n;
    const b = byId('chat-badge');
    b.textContent = String(n);
    b.hidden = n === 0;
  }

  /** @param {boolean} mayChat */
  chatAllowed(mayChat) {
    byId('chat-closed').hidden = mayChat;
    for (const el of byId('chat-form').querySelectorAll('textarea, select, button')) {
      /** @type {HTMLButtonElement} */ (el).disabled = !mayChat;
    }
  }

  /** Everyone's connection figures (hosts get the details). @param {Record<string, QualityDetail>} details */
  quality(details) {
    this.details = details || {};
    for (const [id, row] of this.rows) this.fillQuality(row, id);
  }

  /** @param {HTMLElement} row @param {string} id */
  fillQuality(row, id) {
    const d = this.details[id];
    /** @type {HTMLElement} */ (row.querySelector('.person-quality')).textContent = d
      ? `connection ${d.level}: ${(d.loss * 100).toFixed(1)}% lost, ${Math.round(d.rtt_ms)} ms round trip, ${Math.round(d.jitter_ms)} ms jitter`
      : '';
  }
}
