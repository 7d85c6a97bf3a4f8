// prejoin.js: the pre-join page's camera and microphone preview, device
// selection and microphone level meter. Nothing leaves the browser here.

const video = /** @type {HTMLVideoElement} */ (document.getElementById('preview-video'));
const placeholder = /** @type {HTMLElement} */ (document.getElementById('preview-placeholder'));
const cameraSelect = /** @type {HTMLSelectElement} */ (document.getElementById('camera'));
const micSelect = /** @type {HTMLSelectElement} */ (document.getElementById('microphone'));
const meter = /** @type {HTMLElement} */ (document.getElementById('mic-level'));
const meterBar = /** @type {HTMLElement} */ (meter.querySelector('span'));

/** @type {MediaStream|null} */
let stream = null;
/** @type {AudioContext|null} */
let audio = null;
let frame = 0;

function say(text) {
  placeholder.textContent = text;
  placeholder.hidden = text === '';
}

function stop() {
  cancelAnimationFrame(frame);
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
}

/** Start (or restart) the preview with the selected devices. */
async function start() {
  stop();
  const camera = cameraSelect.value, mic = micSelect.value;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: camera ? { deviceId: { exact: camera } } : true,
      audio: mic ? { deviceId: { exact: mic } } : true,
    });
  } catch (err) {
    say(explain(err));
    return;
  }
  video.srcObject = stream;
  await video.play().catch(() => {});
  say('');
  await listDevices();
  watchLevel(stream);
}

/** @param {unknown} err */
function explain(err) {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError') return 'Camera and microphone are blocked. Allow them in your browser to be seen and heard.';
  if (name === 'NotFoundError') return 'No camera or microphone was found.';
  if (name === 'NotReadableError') return 'Your camera or microphone is in use by another program.';
  return 'Your camera and microphone could not be started.';
}

/** Fill the device lists, keeping what is in use selected. */
async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const inUse = new Set(stream ? stream.getTracks().map((t) => t.getSettings().deviceId) : []);
  fill(cameraSelect, devices.filter((d) => d.kind === 'videoinput'), inUse, 'Camera');
  fill(micSelect, devices.filter((d) => d.kind === 'audioinput'), inUse, 'Microphone');
}

/**
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {Set<string|undefined>} inUse
 * @param {string} fallback
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

/** Drive the level meter from the microphone. @param {MediaStream} s */
function watchLevel(s) {
  if (s.getAudioTracks().length === 0) return;
  audio = audio || new AudioContext();
  const analyser = audio.createAnalyser();
  analyser.fftSize = 512;
  audio.createMediaStreamSource(s).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const tick = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    meterBar.style.width = `${Math.round(level * 100)}%`;
    meter.setAttribute('aria-valuenow', String(Math.round(level * 100)));
    frame = requestAnimationFrame(tick);
  };
  tick();
}

cameraSelect.addEventListener('change', start);
micSelect.addEventListener('change', start);
document.addEventListener('visibilitychange', () => { if (audio && !document.hidden) audio.resume(); });
window.addEventListener('pagehide', stop);

if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  start();
} else {
  say('This browser cannot use a camera here. Open the link over https in a current browser.');
}
