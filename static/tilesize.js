// tilesize.js: tells the server how large each received video is shown, so
// it sends the smallest simulcast layer that covers it (a thumbnail never
// gets the top layer, a hidden tile the lowest). Sizes are in device
// pixels; reports wait for a tile to settle and go only when one changed,
// well within the server's budget for them.

/** How long a tile's size must hold before it is reported. */
const SETTLE_MS = 300;

/** What a shown tile is reported as in small-video mode: smaller than any
 * layer, so the server sends the lowest. */
const SMALL_SIDE = 1;

export class TileSizes {
  /** @param {(m: {type: 'video_size', participant: string, source: string, width: number, height: number}) => void} send */
  constructor(send) {
    this.send = send;
    /** Small-video mode: every shown tile reported small. */
    this.small = false;
    /** @type {Map<Element, {participant: string, source: string, width: number, height: number, sent: string, timer: number}>} */
    this.watched = new Map();
    this.observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver((entries) => {
      for (const e of entries) this.resized(e.target, e.contentRect.width, e.contentRect.height);
    });
  }

  /** Report el's size as the size participant's source is shown at.
   * @param {HTMLVideoElement} el @param {string} participant @param {string} source */
  watch(el, participant, source) {
    this.unwatch(el);
    this.watched.set(el, { participant, source, width: 0, height: 0, sent: '', timer: 0 });
    this.observer?.observe(el);
  }

  /** @param {Element} el */
  unwatch(el) {
    const w = this.watched.get(el);
    if (!w) return;
    clearTimeout(w.timer);
    this.observer?.unobserve(el);
    this.watched.delete(el);
  }

  /** @param {Element} el @param {number} width @param {number} height */
  resized(el, width, height) {
    const w = this.watched.get(el);
    if (!w) return;
    const dpr = window.devicePixelRatio || 1;
    w.width = Math.min(16384, Math.round(width * dpr));
    w.height = Math.min(16384, Math.round(height * dpr));
    clearTimeout(w.timer);
    // Hiding a tile is reported at once: its video stops costing anything.
    const delay = w.width === 0 || w.height === 0 ? 0 : SETTLE_MS;
    w.timer = window.setTimeout(() => this.report(w), delay);
  }

  /** Report every tile small (true) or at its real size again.
   * @param {boolean} on */
  setSmall(on) {
    if (this.small === on) return;
    this.small = on;
    for (const w of this.watched.values()) if (w.sent) this.report(w);
  }

  /** @param {{participant: string, source: string, width: number, height: number, sent: string}} w */
  report(w) {
    const shown = w.width > 0 && w.height > 0;
    const width = shown && this.small ? SMALL_SIDE : w.width;
    const height = shown && this.small ? SMALL_SIDE : w.height;
    const key = `${width}x${height}`;
    if (key === w.sent) return;
    w.sent = key;
    this.send({ type: 'video_size', participant: w.participant, source: w.source, width, height });
  }
}
