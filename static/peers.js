// peers.js: the two PeerConnections of a participant. On "pub" this browser
// offers what it sends and the server answers; on "sub" the server offers
// what we receive and this browser answers. Each side only offers on its
// own, so offers never collide.

/** @typedef {import('./protocol.js').TrackInfo} TrackInfo */
/** @typedef {import('./protocol.js').ServerMessages} ServerMessages */

/** The camera's simulcast layers (rids the server knows, lowest first);
 * a screen share stays one layer, at full resolution.
 * @type {RTCRtpEncodingParameters[]} */
const CAMERA_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export class Peers {
  /**
   * @param {import('./signaling.js').Signaling} signaling
   * @param {RTCIceServer[]} iceServers
   * @param {{ontrack: (info: TrackInfo, track: MediaStreamTrack, mid: string) => void, ongone: (mid: string) => void}} cb
   */
  constructor(signaling, iceServers, cb) {
    this.signaling = signaling;
    this.config = { iceServers, bundlePolicy: /** @type {RTCBundlePolicy} */ ('max-bundle') };
    this.cb = cb;
    /** @type {RTCPeerConnection|null} */
    this.pub = null;
    /** @type {RTCPeerConnection|null} */
    this.sub = null;
    /** @type {Map<RTCRtpSender, string>} what each sender carries */
    this.sources = new Map();
    /** @type {Map<string, TrackInfo>} what each received mid carries */
    this.received = new Map();
    this.negotiating = false;
    this.again = false;
    this.restart = false;
  }

  /** Publish the microphone and camera of a stream. @param {MediaStream} stream */
  async publish(stream) {
    this.pub = new RTCPeerConnection(this.config);
    this.pub.onicecandidate = (ev) => {
      if (ev.candidate) this.signaling.send({ type: 'candidate', pc: 'pub', candidate: ev.candidate.toJSON() });
    };
    this.pub.onconnectionstatechange = () => {
      if (this.pub && this.pub.connectionState === 'failed') this.restartIce();
    };
    for (const track of stream.getTracks()) {
      if (track.kind === 'audio') {
        this.sources.set(this.pub.addTrack(track, stream), 'microphone');
        continue;
      }
      // The camera in three layers: the server sends each receiver the
      // smallest that covers its tile.
      const t = this.pub.addTransceiver(track, { direction: 'sendonly', streams: [stream], sendEncodings: CAMERA_LAYERS });
      this.sources.set(t.sender, 'camera');
    }
    await this.negotiate();
  }

  /** Send a new offer; if one is out, send again when it is answered. */
  async negotiate() {
    if (!this.pub) return;
    if (this.negotiating) {
      this.again = true;
      return;
    }
    this.negotiating = true;
    const offer = await this.pub.createOffer({ iceRestart: this.restart });
    this.restart = false;
    await this.pub.setLocalDescription(offer);
    /** @type {Record<string, string>} */
    const tracks = {};
    for (const t of this.pub.getTransceivers()) {
      const source = this.sources.get(t.sender);
      if (source && t.mid !== null && t.sender.track && t.direction !== 'inactive') tracks[t.mid] = source;
    }
    this.signaling.send({ type: 'offer', pc: 'pub', sdp: this.pub.localDescription?.sdp, tracks });
  }

  /** @param {ServerMessages['answer']} m */
  async handleAnswer(m) {
    if (!this.pub) return;
    await this.pub.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    this.negotiating = false;
    if (this.again) {
      this.again = false;
      await this.negotiate();
    }
  }

  /** @param {ServerMessages['offer']} m */
  async handleOffer(m) {
    if (!this.sub) {
      this.sub = new RTCPeerConnection(this.config);
      this.sub.onicecandidate = (ev) => {
        if (ev.candidate) this.signaling.send({ type: 'candidate', pc: 'sub', candidate: ev.candidate.toJSON() });
      };
      this.sub.ontrack = (ev) => {
        const mid = ev.transceiver.mid || '';
        const info = this.received.get(mid);
        if (info) this.cb.ontrack(info, ev.track, mid);
      };
      this.sub.onconnectionstatechange = () => {
        if (this.sub && this.sub.connectionState === 'failed') this.signaling.send({ type: 'restart_ice' });
      };
    }
    const before = new Set(this.received.keys());
    this.received = new Map(Object.entries(m.tracks || {}));
    await this.sub.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    this.signaling.send({ type: 'answer', pc: 'sub', sdp: answer.sdp });
    for (const mid of before) if (!this.received.has(mid)) this.cb.ongone(mid);
  }

  /** Restart ICE on both sides after the network changed. */
  async restartIce() {
    this.signaling.send({ type: 'restart_ice' });
    if (this.pub) {
      this.restart = true;
      await this.negotiate();
    }
  }

  /** Forget half-done negotiations after a reconnect: the server may have missed them. */
  resetNegotiation() {
    this.negotiating = false;
    this.again = false;
  }

  /** Share a screen (or a window); resolves false if the person cancelled.
   * @param {() => void} onstop called when the browser's own "stop sharing" ends it */
  async shareScreen(onstop) {
    if (!this.pub) return false;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      return false;
    }
    const track = stream.getVideoTracks()[0];
    const sender = this.pub.addTrack(track, stream);
    this.sources.set(sender, 'screen');
    track.addEventListener('ended', () => onstop());
    await this.negotiate();
    return stream;
  }

  async stopScreen() {
    if (!this.pub) return;
    for (const [sender, source] of this.sources) {
      if (source !== 'screen') continue;
      if (sender.track) sender.track.stop();
      this.pub.removeTrack(sender);
      this.sources.delete(sender);
    }
    await this.negotiate();
  }

  /** Use other devices without renegotiating. @param {MediaStream} stream */
  async replaceTracks(stream) {
    for (const [sender, source] of this.sources) {
      const track = source === 'microphone' ? stream.getAudioTracks()[0] : source === 'camera' ? stream.getVideoTracks()[0] : null;
      if (track) await sender.replaceTrack(track);
    }
  }

  /** Stop sending anything (an observer sends nothing). */
  unpublish() {
    if (this.pub) this.pub.close();
    this.pub = null;
    this.sources.clear();
    this.resetNegotiation();
  }

  close() {
    if (this.pub) this.pub.close();
    if (this.sub) this.sub.close();
    this.pub = this.sub = null;
  }
}
