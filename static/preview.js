// preview.js: the camera and microphone before joining — device choice and a
// level meter. The stream it holds is the one the meeting publishes.

export class Preview {
  /** @param {{video: HTMLVideoElement, placeholder: HTMLElement, camera: HTMLSelectElement, microphone: HTMLSelectElement, meter: HTMLElement}} el */
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
  }

  /** Start (or restart) the preview with the selected devices. */
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.say('This browser cannot use a camera here. Open the link over https in a current browser.');
      return null;
    }
    const camera = this.el.camera.value, mic = this.el.microphone.value;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: camera ? { deviceId: { exact: camera } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: mic ? { deviceId: { exact: mic } } : { echoCancellation: true, noiseSuppression: true },
      });
    } catch (err) {
      this.say(explain(err));
      return null;
    }
    const old = this.stream;
    this.stream = stream;
    if (old) for (const t of old.getTracks()) t.stop();
    this.el.video.srcObject = stream;
    await this.el.video.play().catch(() => {});
    this.say('');
    await this.listDevices();
    this.watchLevel(stream);
    if (old && this.onchange) this.onchange(stream);
    return stream;
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

/** @param {unknown} err */
function explain(err) {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError') return 'Camera and microphone are blocked. Allow them in your browser to be seen and heard.';
  if (name === 'NotFoundError') return 'No camera or microphone was found.';
  if (name === 'NotReadableError') return 'Your camera or microphone is in use by another program.';
  return 'Your camera and microphone could not be started.';
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
