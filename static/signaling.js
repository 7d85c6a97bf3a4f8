// signaling.js: the meeting's WebSocket. Messages are JSON with a "type" and
// this connection's "seq". When the connection drops unexpectedly it
// reconnects by itself and resumes with the secret from the welcome (kept in
// memory only: a reloaded page joins afresh); see docs/protocol.md.

/** @typedef {import('./protocol.js').ServerMessages} ServerMessages */

/** Close codes after which resuming is pointless. */
const FINAL_CLOSE = new Set([1008, 4403]);

export class Signaling {
  /** @param {string} path the socket's path, e.g. /meetings/<id>/ws */
  constructor(path) {
    this.url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
    /** @type {string} the resume secret from the latest welcome */
    this.secret = '';
    /** @type {RTCIceServer[]} from the latest welcome */
    this.iceServers = [];
    this.rejoin = false;
    /** @type {WebSocket|null} */
    this.ws = null;
    this.seq = 0;
    this.finished = false;
    this.attempt = 0;
    /** @type {Map<string, (m: any) => void>} by message type; on() pairs each type with its shape */
    this.handlers = new Map();
    /** @type {(state: 'open'|'reconnecting'|'closed', detail?: string) => void} */
    this.onstate = () => {};
    /** @type {() => Promise<string>} fetches a fresh join token */
    this.freshToken = async () => '';
  }

  /**
   * Handle the server's messages of one type.
   * @template {keyof ServerMessages} T
   * @param {T} type @param {(m: ServerMessages[T]) => void} fn
   */
  on(type, fn) { this.handlers.set(type, fn); }

  /** Join with a join token. */
  async start() {
    this.open({ type: 'join', token: await this.freshToken() });
  }

  /** @param {Record<string, unknown>} first */
  open(first) {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.seq = 0;
    let welcomed = false;
    ws.onopen = () => this.send(first);
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === 'welcome') {
        welcomed = true;
        this.attempt = 0;
        this.secret = m.resume;
        this.onstate('open');
      }
      if (m.type === 'error' && m.code === 'resume_expired' && first.type === 'resume') {
        // Too long away: go through the door (and the lobby) again.
        this.secret = '';
        this.rejoin = true;
      }
      const fn = this.handlers.get(m.type);
      if (fn) fn(m);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      if (this.rejoin) {
        this.rejoin = false;
        this.freshToken().then((token) => this.open({ type: 'join', token }), () => this.onstate('closed', 'join'));
        return;
      }
      if (this.finished || FINAL_CLOSE.has(ev.code)) {
        this.finished = true;
        this.onstate('closed', ev.reason);
        return;
      }
      const secret = this.secret;
      if (!secret || (!welcomed && first.type === 'join' && this.attempt > 3)) {
        this.onstate('closed', 'lost');
        return;
      }
      this.onstate('reconnecting');
      const delay = Math.min(5000, 250 * 2 ** this.attempt++);
      setTimeout(() => this.open({ type: 'resume', resume: secret, keep_media: true }), delay);
    };
  }

  /** @param {Record<string, unknown>} msg */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ ...msg, seq: ++this.seq }));
    return true;
  }

  /** Stop for good: after leaving, being denied, or the meeting ending. */
  finish() {
    this.finished = true;
    this.secret = '';
  }
}
