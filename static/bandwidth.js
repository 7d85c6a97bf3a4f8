// bandwidth.js: the low-bandwidth mode a parent on a weak link picks, and
// the notice that suggests it. Three modes: normal; small video (every tile
// reported small, so the server sends each camera's lowest layer); audio
// only (the server sends no video at all, screen shares included, as in
// Meet). The server enforces audio only; the page says so on the tiles.

/** @typedef {'normal'|'small'|'audio'} Mode */
/** @typedef {import('./tilesize.js').TileSizes} TileSizes */
/** @typedef {import('./ui.js').UI} UI */

/** How many `quality` reports in a row must find our own link weak or bad
 * before the notice shows: one bad second is not worth interrupting for. */
export const WEAK_REPORTS = 2;

/** The run of weak reports after one more: 0 on a good (or unknown) one.
 * @param {number} run @param {string} level */
export function weakRun(run, level) {
  return level === 'weak' || level === 'bad' ? run + 1 : 0;
}

/** @param {string} v @returns {Mode} */
function asMode(v) {
  return v === 'small' || v === 'audio' ? v : 'normal';
}

export class Bandwidth {
  /** @param {{send: (m: {type: 'receive_video', on: boolean}) => void, sizes: TileSizes, ui: UI, announce: (text: string) => void}} deps */
  constructor({ send, sizes, ui, announce }) {
    this.send = send;
    this.sizes = sizes;
    this.ui = ui;
    this.announce = announce;
    /** @type {Mode} */
    this.mode = 'normal';
    this.run = 0;
    this.dismissed = false;
    this.select = /** @type {HTMLSelectElement} */ (document.getElementById('bandwidth-mode'));
    this.notice = /** @type {HTMLElement} */ (document.getElementById('weak-notice'));
    this.select.addEventListener('change', () => this.choose(asMode(this.select.value)));
    for (const b of this.notice.querySelectorAll('button[data-mode]')) {
      const mode = asMode(/** @type {HTMLElement} */ (b).dataset.mode || '');
      b.addEventListener('click', () => { this.choose(mode); this.announce(`Switched to ${this.label(mode)}.`); });
    }
    /** @type {HTMLElement} */ (document.getElementById('weak-dismiss')).addEventListener('click', () => {
      this.dismissed = true;
      this.render();
    });
  }

  /** @param {Mode} mode */
  label(mode) {
    const o = [...this.select.options].find((x) => x.value === mode);
    return o ? o.text.toLowerCase() : mode;
  }

  /** Pick a mode; the server hears of it if the room is connected.
   * @param {Mode} mode */
  choose(mode) {
    const wasAudio = this.mode === 'audio';
    this.mode = mode;
    this.select.value = mode;
    this.sizes.setSmall(mode !== 'normal');
    if (wasAudio !== (mode === 'audio')) this.send({ type: 'receive_video', on: mode !== 'audio' });
    this.ui.videoPaused(mode === 'audio' ? 'lowbw' : '');
    this.render();
  }

  /** Entering the room (or back after a reconnect): a new server-side peer
   * receives video until told otherwise. */
  entered() {
    if (this.mode === 'audio') this.send({ type: 'receive_video', on: false });
    this.ui.videoPaused(this.mode === 'audio' ? 'lowbw' : '');
  }

  /** Our own connection's level, from each `quality` report. @param {string} level */
  quality(level) {
    this.run = weakRun(this.run, level);
    if (this.run === 0) this.dismissed = false; // a new weak spell may ask again
    this.render();
  }

  render() {
    this.notice.hidden = this.run < WEAK_REPORTS || this.dismissed || this.mode === 'audio';
    /** @type {HTMLElement} */ (this.notice.querySelector('button[data-mode="small"]')).hidden = this.mode === 'small';
  }
}
