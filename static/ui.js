// ui.js: the meeting's screens, tiles and lobby panel. Anything that came
// from another person (names, messages) is set with textContent only.

import { byId } from './dom.js';
import { audioLevel } from './preview.js';
/** @typedef {import('./tilesize.js').TileSizes} TileSizes */

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').LobbyEntry} LobbyEntry */
/** @typedef {import('./protocol.js').TrackInfo} TrackInfo */
/**
 * A participant's tile: its elements, what it shows, how loud its person is
 * now (0..1), and how to stop its level meter.
 * @typedef {{el: HTMLElement, media: HTMLElement, name: HTMLElement, state: HTMLElement, pin: HTMLButtonElement, video: HTMLVideoElement|null, audio: HTMLAudioElement|null, p: Participant, level: number, stopLevel: () => void}} Tile
 */

/** What a tile says while the server sends it no video, by why: the one
 * place for these words. */
export const PAUSED_TEXT = /** @type {Record<string, string>} */ ({
  lowbw: 'Video off — low-bandwidth mode',
  weak: 'Video paused — weak connection',
});

const REACTIONS = /** @type {Record<string, string>} */ ({ thumbs_up: '👍', clap: '👏', heart: '❤️', laugh: '😂', wave: '👋' });

/** The grid for n tiles on a w×h stage: of the shapes with no empty row,
 * the one whose cells are nearest 16:9 (cells always fill the stage, so
 * the tiles' total area does not depend on the choice; the shape decides
 * how much of each camera picture is cropped).
 * @param {number} n @param {number} w @param {number} h */
export function galleryShape(n, w, h) {
  let best = { cols: 1, rows: n };
  let bestMiss = Infinity;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    if ((rows - 1) * cols >= n) continue;
    const miss = Math.abs(Math.log((w / cols) / (h / rows) / (16 / 9)));
    if (miss < bestMiss) { best = { cols, rows }; bestMiss = miss; }
  }
  return best;
}

/** How long someone must be the loudest before speaker view follows them:
 * a cough or a short "yes" does not throw the picture about. */
const SPEAKER_HOLD_MS = 2000;
/** Louder than this counts as speaking (the outline, speaker view). */
const SPEAKING_LEVEL = 0.08;
const VIEW_KEY = 'classmeet.view';

/** Who speaker view shows large, given who is loudest now: the current
 * speaker stays until someone else has been loudest for SPEAKER_HOLD_MS.
 * @param {{current: string, candidate: string, since: number}} s @param {string} loudest @param {number} now */
export function followSpeaker(s, loudest, now) {
  if (!loudest || loudest === s.current) return { ...s, candidate: '', since: now };
  if (!s.current) return { current: loudest, candidate: '', since: now };
  if (loudest !== s.candidate) return { ...s, candidate: loudest, since: now };
  if (now - s.since >= SPEAKER_HOLD_MS) return { current: loudest, candidate: '', since: now };
  return s;
}

/** The view chosen earlier in this session, if the browser lets us keep it. */
function remembered() {
  try { return sessionStorage.getItem(VIEW_KEY); } catch { return null; }
}

export class UI {
  constructor() {
    this.screens = ['prejoin', 'lobby', 'room', 'finished'].map(byId);
    this.grid = byId('grid');
    this.featured = byId('featured');
    this.featured.addEventListener('dblclick', () => toggleFullscreen(this.featured));
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {Map<string, TrackInfo & {el: HTMLMediaElement}>} received tracks by mid */
    this.tracks = new Map();
    /** Reports each received video's shown size, once the room is connected. @type {TileSizes|null} */
    this.sizes = null;
    this.audioCtx = null;
    this.lobbyCount = 0;
    /** Why the server sends us no video now (a key of PAUSED_TEXT), or ''. */
    this.paused = '';
    /** The videos the server holds back because our link is too weak for
     * them now, as "participant/source". @type {Set<string>} */
    this.weak = new Set();
    /** Who waits in the lobby, as the latest list said. @type {LobbyEntry[]} */
    this.waiting = [];
    /** 'gallery' or 'speaker', kept for the session (a reload or a reconnect keeps it). */
    this.view = remembered() === 'speaker' ? 'speaker' : 'gallery';
    /** Whose tile this viewer pinned (local: nobody else sees it). */
    this.pinned = '';
    this.active = { current: '', candidate: '', since: 0 };
    // The stage changes size with the window, an opened panel or a notice;
    // the gallery is laid out again whenever it does.
    new ResizeObserver(() => this.layout()).observe(/** @type {HTMLElement} */ (this.grid.parentElement));
    setInterval(() => this.followLoudest(), 250);
  }

  /** Switch between gallery and speaker view. @param {'gallery'|'speaker'} view */
  setView(view) {
    this.view = view;
    try { sessionStorage.setItem(VIEW_KEY, view); } catch { /* storage blocked: kept for this page only */ }
    this.layout();
  }

  /** Pin someone's tile large, or unpin it. @param {string} id */
  togglePin(id) {
    this.pinned = this.pinned === id ? '' : id;
    for (const [pid, t] of this.tiles) t.pin.setAttribute('aria-pressed', String(pid === this.pinned));
    this.layout();
  }

  /** Speaker view follows the loudest of the others (our own voice would
   * put ourselves large, which nobody wants to watch). */
  followLoudest() {
    let loudest = '', max = SPEAKING_LEVEL;
    for (const [id, t] of this.tiles) {
      if (!t.el.classList.contains('self') && t.level > max) { loudest = id; max = t.level; }
    }
    const before = this.active.current;
    this.active = followSpeaker(this.active, loudest, performance.now());
    if (this.active.current !== before && this.view === 'speaker') this.layout();
  }

  /** The tile shown large: the pinned one in any view, else in speaker
   * view the active speaker (or someone else, before anyone spoke). */
  mainTile() {
    if (this.tiles.has(this.pinned)) return this.pinned;
    if (this.view !== 'speaker' || this.tiles.size < 2) return '';
    if (this.tiles.has(this.active.current)) return this.active.current;
    for (const [id, t] of this.tiles) if (!t.el.classList.contains('self')) return id;
    return '';
  }

  /** Size the gallery: columns and rows chosen so the tiles fill the stage
   * while staying as near 16:9 as the count allows. With a share featured
   * the tiles are a strip beside it and CSS sizes them (a pinned tile first);
   * with a tile shown large the others are a strip beside it (below it on a
   * portrait screen). */
  layout() {
    const g = this.grid.style;
    const n = this.tiles.size;
    const main = this.mainTile();
    for (const [id, t] of this.tiles) {
      t.el.classList.toggle('main', id === main);
      t.el.style.gridRow = t.el.style.gridColumn = '';
      t.el.style.order = id === this.pinned ? '-1' : '';
    }
    this.grid.classList.toggle('spotlight', main !== '' && !this.grid.classList.contains('with-featured'));
    if (n === 0 || this.grid.classList.contains('with-featured')) {
      g.gridTemplateColumns = g.gridTemplateRows = '';
      return;
    }
    const stage = /** @type {HTMLElement} */ (this.grid.parentElement);
    if (main) {
      this.spotlight(/** @type {Tile} */ (this.tiles.get(main)), n - 1, stage.clientWidth >= stage.clientHeight);
      return;
    }
    const { cols, rows } = galleryShape(n, stage.clientWidth, stage.clientHeight);
    g.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    g.gridTemplateRows = `repeat(${rows}, minmax(0, 1fr))`;
  }

  /** One tile large, the `others` in a strip: a column on its right on a
   * landscape stage, a row below it on a portrait one.
   * @param {Tile} t @param {number} others @param {boolean} landscape */
  spotlight(t, others, landscape) {
    const g = this.grid.style;
    const k = Math.max(others, 1);
    if (landscape) {
      g.gridTemplateColumns = 'minmax(0, 1fr) minmax(8rem, 22%)';
      g.gridTemplateRows = `repeat(${k}, minmax(0, 1fr))`;
      t.el.style.gridColumn = '1';
      t.el.style.gridRow = `1 / span ${k}`;
    } else {
      g.gridTemplateColumns = `repeat(${k}, minmax(0, 1fr))`;
      g.gridTemplateRows = 'minmax(0, 1fr) minmax(5rem, 22%)';
      t.el.style.gridColumn = `1 / span ${k}`;
      t.el.style.gridRow = '1';
    }
  }

  /** @param {'prejoin'|'lobby'|'room'|'finished'} name */
  show(name) {
    for (const s of this.screens) s.hidden = s.id !== name;
  }

  /** @param {string} text */
  announce(text) {
    byId('announce').textContent = text;
  }

  /** @param {string} title @param {string} text */
  finish(title, text) {
    byId('finished-title').textContent = title;
    byId('finished-text').textContent = text;
    this.show('finished');
    for (const id of [...this.tiles.keys()]) this.removeTile(id);
  }

  /** @param {boolean} hostPresent */
  lobbyStatus(hostPresent) {
    const el = /** @type {HTMLElement} */ (document.querySelector('[data-testid="lobby-status"]'));
    el.textContent = hostPresent
      ? 'The host has been told you are here. Please wait to be let in.'
      : 'Waiting for the host to arrive. They will see you are here when they join.';
  }

  /** Add or update a participant's tile. @param {Participant} p @param {boolean} [self] */
  upsert(p, self = false) {
    let t = this.tiles.get(p.id);
    if (!t) {
      const tpl = /** @type {HTMLTemplateElement} */ (byId('tile-template'));
      const el = /** @type {HTMLElement} */ (tpl.content.firstElementChild?.cloneNode(true));
      el.dataset.participant = p.id;
      if (self) el.classList.add('self');
      t = {
        el, media: /** @type {HTMLElement} */ (el.querySelector('.tile-media')),
        name: /** @type {HTMLElement} */ (el.querySelector('.tile-name')),
        state: /** @type {HTMLElement} */ (el.querySelector('.tile-state')),
        pin: /** @type {HTMLButtonElement} */ (el.querySelector('.tile-pin')),
        video: null, audio: null, p, level: 0, stopLevel: () => {},
      };
      const id = p.id;
      t.pin.addEventListener('click', () => this.togglePin(id));
      // A double-click makes one person (or their share) the whole screen.
      el.addEventListener('dblclick', (ev) => {
        if (!(ev.target instanceof Element && ev.target.closest('button'))) toggleFullscreen(el); // not a quick pin and unpin
      });
      this.tiles.set(p.id, t);
      if (self) this.grid.prepend(el); else this.grid.append(el);
      this.layout();
    }
    t.p = { ...t.p, ...p };
    t.name.textContent = self ? `${p.name} (you)` : p.name;
    t.pin.setAttribute('aria-label', `Pin ${t.p.name}`);
    const notes = [];
    if (t.p.presence === 'away') notes.push('reconnecting…');
    if (t.p.audio_blocked) notes.push('muted by host');
    else if (!t.p.audio && t.p.role !== 'observer') notes.push('muted');
    if (!t.p.video && t.p.role !== 'observer') notes.push('camera off');
    if (t.p.role === 'observer') notes.push('observer');
    if (t.p.role === 'host') notes.unshift('host');
    if (t.p.role === 'cohost') notes.unshift('co-host');
    t.state.textContent = notes.join(' · ');
    t.el.classList.toggle('away', t.p.presence === 'away');
    t.el.classList.toggle('no-video', !t.p.video);
    t.el.classList.toggle('muted', !t.p.audio);
    /** @type {HTMLElement} */ (t.el.querySelector('.tile-hand')).hidden = !t.p.hand_raised_at;
    this.pausedNote(t);
    this.count();
  }

  /** The server stopped (a key of PAUSED_TEXT) or resumed ('') sending us
   * video: tiles and the shared screen say so instead of a frozen frame.
   * @param {string} why */
  videoPaused(why) {
    this.paused = PAUSED_TEXT[why] ? why : '';
    this.pausedNotes();
  }

  /** The server holds back these videos for our weak link (and sends the
   * others). @param {{participant: string, source: string}[]} tracks */
  weakLink(tracks) {
    this.weak = new Set(tracks.map((x) => `${x.participant}/${x.source}`));
    this.pausedNotes();
  }

  pausedNotes() {
    for (const t of this.tiles.values()) this.pausedNote(t);
    const why = this.paused || (this.weak.has(`${this.featured.dataset.participant}/screen`) ? 'weak' : '');
    const note = byId('featured-paused');
    note.textContent = why ? PAUSED_TEXT[why] : '';
    note.hidden = !why;
    this.featured.classList.toggle('video-paused', why !== '');
  }

  /** @param {Tile} t */
  pausedNote(t) {
    const why = this.paused || (this.weak.has(`${t.p.id}/camera`) ? 'weak' : '');
    const on = why !== '' && !t.el.classList.contains('self') && !!t.p.video;
    const note = /** @type {HTMLElement} */ (t.el.querySelector('.tile-paused'));
    note.textContent = on ? PAUSED_TEXT[why] : '';
    note.hidden = !on;
    t.el.classList.toggle('video-paused', on);
  }

  /** Show a reaction on someone's tile for a few seconds. @param {string} id @param {string} reaction */
  react(id, reaction) {
    const t = this.tiles.get(id);
    if (!t || !REACTIONS[reaction]) return;
    const el = /** @type {HTMLElement} */ (t.el.querySelector('.tile-reaction'));
    el.textContent = REACTIONS[reaction];
    el.classList.remove('show');
    void el.offsetWidth; // restart the fade
    el.classList.add('show');
    clearTimeout(Number(el.dataset.timer || 0));
    el.dataset.timer = String(setTimeout(() => { el.textContent = ''; el.classList.remove('show'); }, 4000));
  }

  /** Colour each tile's connection dot. @param {Record<string, string>} levels */
  quality(levels) {
    for (const [id, t] of this.tiles) {
      const level = levels[id] || '';
      const dot = /** @type {HTMLElement} */ (t.el.querySelector('.tile-quality'));
      dot.dataset.level = level;
      dot.setAttribute('aria-label', level ? `connection ${level}` : 'connection unknown');
      dot.title = level ? `connection ${level}` : '';
    }
  }

  /** @param {string} id */
  removeTile(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.stopLevel();
    t.el.remove();
    this.tiles.delete(id);
    if (this.pinned === id) this.pinned = '';
    for (const [mid, tr] of this.tracks) if (tr.participant === id) this.dropTrack(mid);
    this.count();
    this.layout();
  }

  count() {
    const n = this.tiles.size;
    byId('participant-count').textContent = n === 1 ? '1 person' : `${n} people`;
  }

  /** Show our own camera in our tile. @param {string} id @param {MediaStream} stream */
  selfView(id, stream) {
    const t = this.tiles.get(id);
    if (!t) return;
    const v = this.videoIn(t.media);
    v.muted = true;
    v.srcObject = new MediaStream(stream.getVideoTracks());
    this.speaking(t, stream);
  }

  /** Attach a received track to its participant's tile or the stage.
   * @param {string} mid @param {TrackInfo} info @param {MediaStreamTrack} track */
  attach(mid, info, track) {
    const existing = this.tracks.get(mid);
    if (existing && existing.el.srcObject instanceof MediaStream && existing.el.srcObject.getTracks()[0] === track) return;
    if (existing) this.dropTrack(mid);
    const t = this.tiles.get(info.participant);
    if (!t) return;
    /** @type {HTMLMediaElement} */
    let el;
    if (info.source === 'screen') {
      el = this.videoIn(this.featured, true);
      this.featured.append(byId('featured-paused')); // its note stays above the video
      el.dataset.testid = 'screen-video';
      this.featured.hidden = false;
      this.featured.dataset.participant = info.participant;
      this.grid.classList.add('with-featured');
      this.layout();
    } else if (track.kind === 'video') {
      el = this.videoIn(t.media);
    } else {
      el = document.createElement('audio');
      el.autoplay = true;
      t.el.append(el);
      this.speaking(t, new MediaStream([track]));
    }
    el.srcObject = new MediaStream([track]);
    el.play().catch(() => {});
    if (el instanceof HTMLVideoElement) this.sizes?.watch(el, info.participant, info.source);
    this.tracks.set(mid, { participant: info.participant, source: info.source, el });
  }

  /** @param {string} mid */
  dropTrack(mid) {
    const tr = this.tracks.get(mid);
    if (!tr) return;
    this.tracks.delete(mid);
    this.sizes?.unwatch(tr.el);
    tr.el.srcObject = null;
    if (tr.source === 'screen') {
      tr.el.remove();
      if (![...this.tracks.values()].some((x) => x.source === 'screen')) {
        this.featured.hidden = true;
        this.grid.classList.remove('with-featured');
        this.layout();
      }
    } else if (tr.el instanceof HTMLAudioElement) {
      tr.el.remove();
    }
  }

  /** @param {HTMLElement} box @param {boolean} [fresh] */
  videoIn(box, fresh = false) {
    let v = fresh ? null : box.querySelector('video');
    if (!v) {
      v = document.createElement('video');
      v.autoplay = true;
      v.playsInline = true;
      v.muted = true; // sound plays from the participant's audio element
      box.append(v);
    }
    return v;
  }

  /** Light the tile while its person speaks. @param {Tile} t @param {MediaStream} stream */
  speaking(t, stream) {
    if (stream.getAudioTracks().length === 0) return;
    t.stopLevel();
    this.audioCtx = this.audioCtx || new AudioContext();
    const level = audioLevel(this.audioCtx, stream);
    const timer = setInterval(() => {
      t.level = level();
      t.el.classList.toggle('speaking', t.level > SPEAKING_LEVEL);
    }, 150);
    t.stopLevel = () => { clearInterval(timer); t.level = 0; };
  }

  /** Show the lobby to a host, updating entries in place so a half-typed
   * deny message survives someone else arriving.
   * @param {LobbyEntry[]} entries
   * @param {(id: string) => void} admit @param {(id: string, message: string) => void} deny */
  lobby(entries, admit, deny) {
    const list = document.getElementById('lobby-list');
    if (!list) return false; // only the host's page has the lobby panel
    const keep = new Set(entries.map((e) => e.id));
    for (const li of [...list.children]) {
      if (!keep.has(/** @type {HTMLElement} */ (li).dataset.participant || '')) li.remove();
    }
    const tpl = /** @type {HTMLTemplateElement} */ (byId('lobby-entry-template'));
    for (const e of entries) {
      let li = /** @type {HTMLElement|null} */ (list.querySelector(`[data-participant="${CSS.escape(e.id)}"]`));
      if (!li) {
        li = /** @type {HTMLElement} */ (tpl.content.firstElementChild?.cloneNode(true));
        li.dataset.participant = e.id;
        const entry = li;
        /** @type {HTMLElement} */ (li.querySelector('[data-act="admit"]')).addEventListener('click', () => admit(e.id));
        /** @type {HTMLElement} */ (li.querySelector('[data-act="deny"]')).addEventListener('click', () => this.denyForm(entry, e.id, deny));
      }
      /** @type {HTMLElement} */ (li.querySelector('.lobby-name')).textContent = e.name;
      /** @type {HTMLElement} */ (li.querySelector('.lobby-invited')).textContent = e.invitee_name === ''
        ? 'no invitation'
        : e.name_matches ? `invited as ${e.invitee_name} ✓` : `invited as ${e.invitee_name} — a different name`;
      list.append(li); // keeps arrival order
    }
    byId('lobby-empty').hidden = entries.length > 0;
    /** @type {HTMLButtonElement} */ (byId('admit-all')).disabled = entries.length === 0;
    const badge = byId('lobby-badge');
    badge.textContent = String(entries.length);
    badge.hidden = entries.length === 0;
    const arrived = entries.length > this.lobbyCount;
    if (arrived) {
      this.chime();
      this.announce(`${entries[entries.length - 1].name} is waiting in the lobby`);
    }
    this.lobbyCount = entries.length;
    this.waiting = entries;
    this.lobbyBanner();
    return arrived;
  }

  /** While anyone waits and the lobby panel is closed, a banner in the room
   * says so with a way to let them in: a badge and a chime alone are missed
   * by a teacher who arrives to a full lobby or is busy in another panel. */
  lobbyBanner() {
    const banner = document.getElementById('lobby-banner');
    if (!banner) return;
    const n = this.waiting.length;
    banner.hidden = n === 0 || !byId('lobby-panel').hidden;
    if (n === 0) return;
    byId('lobby-banner-text').textContent = n === 1
      ? `${this.waiting[0].name} is waiting in the lobby.`
      : `${n} people are waiting in the lobby.`;
    byId('lobby-banner-admit').textContent = n === 1 ? 'Admit' : 'Admit all';
  }

  /** An inline form to deny with an optional message.
   * @param {HTMLElement} li @param {string} id @param {(id: string, message: string) => void} deny */
  denyForm(li, id, deny) {
    if (li.querySelector('form')) return;
    const form = document.createElement('form');
    form.className = 'deny-form';
    const label = document.createElement('label');
    label.textContent = 'Message (optional)';
    const input = document.createElement('input');
    input.type = 'text';
    input.maxLength = 500;
    input.dataset.testid = 'deny-message';
    label.append(input);
    const ok = document.createElement('button');
    ok.type = 'submit';
    ok.className = 'danger';
    ok.textContent = 'Deny';
    ok.dataset.testid = 'deny-confirm';
    form.append(label, ok);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); deny(id, input.value); });
    li.append(form);
    input.focus();
  }

  /** A short two-note chime for a new arrival. */
  chime() {
    try {
      this.audioCtx = this.audioCtx || new AudioContext();
      const ctx = this.audioCtx;
      [660, 880].forEach((f, i) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = f;
        gain.gain.setValueAtTime(0.08, ctx.currentTime + i * 0.15);
        gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.15 + 0.3);
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + i * 0.15);
        osc.stop(ctx.currentTime + i * 0.15 + 0.3);
      });
    } catch { /* no sound is fine */ }
  }
}

/** Put an element into fullscreen, or leave fullscreen if it is there already.
 * @param {HTMLElement} el */
export function toggleFullscreen(el) {
  if (!document.fullscreenEnabled) return; // iPhone Safari has no Fullscreen API for elements
  if (document.fullscreenElement === el) document.exitFullscreen().catch(() => {});
  else el.requestFullscreen().catch(() => {});
}
