// playback.js: plays a recording with every participant's video side by
// side. One clock drives them all: each video is placed on the recording's
// timeline by its start from the manifest, kept within a quarter second of
// where it should be, and paused where it has nothing to show.

const root = /** @type {HTMLElement} */ (document.getElementById('playback'));
const videos = /** @type {HTMLVideoElement[]} */ ([...root.querySelectorAll('video[data-start-ms]')]);
const button = /** @type {HTMLButtonElement} */ (document.getElementById('pb-play'));
const seek = /** @type {HTMLInputElement} */ (document.getElementById('pb-seek'));
const clock = /** @type {HTMLElement} */ (document.getElementById('pb-time'));
const total = Number(root.dataset.durationMs || 0);

let playing = false;
let position = 0; // ms on the timeline, while paused
let startedAt = 0; // performance.now() when play began
let startedFrom = 0; // the position play began from

function now() {
  return playing ? Math.min(total, startedFrom + (performance.now() - startedAt)) : position;
}

/** @param {number} ms */
function fmt(ms) {
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
    : `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** Put every video where the timeline says. @param {boolean} force */
function sync(force) {
  const t = now();
  for (const v of videos) {
    const local = (t - Number(v.dataset.startMs)) / 1000;
    const inside = local >= 0 && local < Number(v.dataset.durationMs) / 1000;
    const tile = v.closest('figure');
    tile?.classList.toggle('idle', !inside);
    const state = tile?.querySelector('.tile-state');
    if (state) state.textContent = inside ? '' : (local < 0 ? 'not yet recorded' : 'recording ended');
    if (!inside) {
      if (!v.paused) v.pause();
      continue;
    }
    if (force || Math.abs(v.currentTime - local) > 0.25) v.currentTime = local;
    if (playing && v.paused) v.play().catch(() => {});
    if (!playing && !v.paused) v.pause();
  }
  seek.value = String(Math.round(t));
  clock.textContent = `${fmt(t)} / ${fmt(total)}`;
  if (playing && t >= total) pause(total);
}

function play() {
  if (position >= total) position = 0;
  playing = true;
  startedFrom = position;
  startedAt = performance.now();
  button.textContent = 'Pause';
  sync(true);
  tick();
}

/** @param {number} at */
function pause(at) {
  position = at;
  playing = false;
  button.textContent = 'Play';
  sync(true);
}

function tick() {
  if (!playing) return;
  sync(false);
  window.setTimeout(tick, 200);
}

button.addEventListener('click', () => (playing ? pause(now()) : play()));
seek.addEventListener('input', () => {
  const wasPlaying = playing;
  position = Number(seek.value);
  playing = false;
  if (wasPlaying) play(); else sync(true);
});
sync(true);
