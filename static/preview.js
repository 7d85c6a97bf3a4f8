// preview.js: the camera and microphone before joining — device choice and a
// level meter. The stream it holds is the one the meeting publishes.

/**
 * The pre-join page's elements.
 * @typedef {{video: HTMLVideoElement, placeholder: HTMLElement, camera: HTMLSelectElement, microphone: HTMLSelectElement, meter: HTMLElement,
 *   micOn: HTMLInputElement, cameraOn: HTMLInputElement, problem: HTMLElement, problemText: HTMLElement}} PreviewElements
 */

export class Preview {
  /** @param {PreviewElements} el */
  constructor(el) {
    this.el = el;
    /** @type {MediaStream|null} */
    this.stream = null;
    /** @type {AudioContext|null} */
    this.audio = null;
    this.frame = 0;
    /** @type {((s: MediaStream) => void)|null} called when the devices change */
    this.onchange = null;
    el.camera.addEventListener('change', () => this.start());
    el.microphone.addEventListener('change', () => this.start());
    el.micOn.addEventListener('change', () => this.applyChoices());
    el.cameraOn.addEventListener('change', () => this.applyChoices());
  }

  /** Start (or restart) the preview with the selected devices. */
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.trouble('This browser cannot use a camera or microphone here. Open the link over https in a current browser. You can still join to listen and watch.');
      this.noDevices();
      return null;
    }
    const { stream, err } = await this.acquire();
    if (!stream) {
      this.trouble(`${explain(err, 'camera and microphone')} You can still join to listen and watch.`);
      this.noDevices();
      return null;
    }
    const old = this.stream;
    this.stream = stream;
    if (old) for (const t of old.getTracks()) t.stop();
    this.el.video.srcObject = stream;
    await this.el.video.play().catch(() => {});
    this.trouble(missing(stream, err));
    await this.listDevices();
    this.watchLevel(stream);
    this.applyChoices();
    if (old && this.onchange) this.onchange(stream);
    return stream;
  }

  /** Ask for the camera and microphone together, and when that fails for
   * each alone: a denied or missing camera must not cost a parent their
   * microphone. @returns {Promise<{stream: MediaStream|null, err: unknown}>} */
  async acquire() {
    const camera = this.el.camera.value, mic = this.el.microphone.value;
    const video = camera ? { deviceId: { exact: camera } } : { width: { ideal: 1280 }, height: { ideal: 720 } };
    const audio = mic ? { deviceId: { exact: mic } } : { echoCancellation: true, noiseSuppression: true };
    let first;
    for (const c of [{ video, audio }, { audio }, { video }]) {
      try {
        return { stream: await navigator.mediaDevices.getUserMedia(c), err: first };
      } catch (err) {
        first = first || err;
      }
    }
    return { stream: null, err: first };
  }

  /** Whether the preview has a track of this kind. @param {'audio'|'video'} kind */
  has(kind) {
    return !!this.stream && this.stream.getTracks().some((t) => t.kind === kind);
  }

  /** Whether to join with this kind on: chosen, and there to be had. @param {'audio'|'video'} kind */
  wants(kind) {
    return this.has(kind) && (kind === 'audio' ? this.el.micOn : this.el.cameraOn).checked;
  }

  /** Follow the "when you join" choices in the preview; a device that is
   * not there cannot be chosen. */
  applyChoices() {
    for (const [kind, box] of /** @type {const} */ ([['audio', this.el.micOn], ['video', this.el.cameraOn]])) {
      if (box.disabled && this.has(kind)) box.checked = true; // back after "Try again"
      box.disabled = !this.has(kind);
      if (box.disabled) box.checked = false;
      for (const t of this.stream?.getTracks() || []) if (t.kind === kind) t.enabled = box.checked;
    }
    const cam = this.has('video');
    this.say(!cam ? 'No camera' : this.el.cameraOn.checked ? '' : 'Your camera is off');
  }

  noDevices() {
    this.stop();
    this.applyChoices();
  }

  /** Show (or with '' clear) what went wrong with the devices. @param {string} text */
  trouble(text) {
    this.el.problemText.textContent = text;
    this.el.problem.hidden = text === '';
  }

  /** @param {string} text */
  say(text) {
    this.el.placeholder.textContent = text;
    this.el.placeholder.hidden = text === '';
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const inUse = new Set(this.stream ? this.stream.getTracks().map((t) => t.getSettings().deviceId) : []);
    fill(this.el.camera, devices.filter((d) => d.kind === 'videoinput'), inUse, 'Camera');
    fill(this.el.microphone, devices.filter((d) => d.kind === 'audioinput'), inUse, 'Microphone');
  }

  /** Drive the level meter from the microphone. @param {MediaStream} stream */
  watchLevel(stream) {
    cancelAnimationFrame(this.frame);
    if (stream.getAudioTracks().length === 0) return;
    this.audio = this.audio || new AudioContext();
    const level = audioLevel(this.audio, stream);
    const bar = /** @type {HTMLElement} */ (this.el.meter.querySelector('span'));
    const tick = () => {
      const v = Math.round(level() * 100);
      bar.style.width = `${v}%`;
      this.el.meter.setAttribute('aria-valuenow', String(v));
      this.frame = requestAnimationFrame(tick);
    };
    tick();
  }

  stop() {
    cancelAnimationFrame(this.frame);
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
  }
}

/**
 * audioLevel returns a function giving the stream's current loudness, 0..1.
 * @param {AudioContext} ctx @param {MediaStream} stream
 */
export function audioLevel(ctx, stream) {
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    return Math.min(1, Math.sqrt(sum / samples.length) * 4);
  };
}

/** Why a device could not be used. @param {unknown} err @param {string} what */
function explain(err, what) {
  const name = err instanceof DOMException ? err.name : '';
  const are = what.includes(' and ') ? 'are' : 'is';
  if (name === 'NotAllowedError') return `Your ${what} ${are} blocked. Allow ${are === 'are' ? 'them' : 'it'} in your browser's site settings, then press Try again.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what.replace(' and ', ' or ')} was found.`;
  if (name === 'NotReadableError') return `Your ${what} ${are} in use by another program.`;
  return `Your ${what} could not be started.`;
}

/** What to tell a person whose stream lacks a device, and how they can
 * still join. @param {MediaStream} stream @param {unknown} err */
function missing(stream, err) {
  const audio = stream.getAudioTracks().length > 0, video = stream.getVideoTracks().length > 0;
  if (audio && video) return '';
  if (audio) return `${explain(err, 'camera')} You can join with your microphone only: the others will hear you but not see you.`;
  return `${explain(err, 'microphone')} You can join with your camera only: the others will see you but not hear you.`;
}

/** Play a short tone (two seconds at most) so a person can check their
 * speaker or headphones before joining. @param {AudioContext} ctx */
export function playTone(ctx) {
  return new Promise((resolve) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    const t = ctx.currentTime;
    osc.frequency.value = 440;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.05);
    gain.gain.setValueAtTime(0.2, t + 0.8);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 1);
    osc.connect(gain).connect(ctx.destination);
    osc.onended = () => { osc.disconnect(); gain.disconnect(); resolve(undefined); };
    osc.start(t);
    osc.stop(t + 1);
  });
}

/**
 * @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} devices
 * @param {Set<string|undefined>} inUse @param {string} fallback
 */
function fill(select, devices, inUse, fallback) {
  select.replaceChildren();
  devices.forEach((d, i) => {
    const opt = document.createElement('option');
    opt.value = d.deviceId;
    opt.textContent = d.label || `${fallback} ${i + 1}`;
    opt.selected = inUse.has(d.deviceId);
    select.append(opt);
  });
  select.disabled = devices.length === 0;
}
