// room.js: a meeting, from the pre-join check to the end. One page moves
// through four screens — pre-join, lobby, room, finished — so the camera
// stays on and a reconnect never reloads anything.

import { Preview } from './preview.js';
import { Signaling } from './signaling.js';
import { Peers } from './peers.js';
import { UI } from './ui.js';

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const app = byId('app');
const joinURL = app.dataset.joinUrl || '';
const isHost = app.dataset.role === 'host';
const ui = new UI();
const preview = new Preview({
  video: /** @type {HTMLVideoElement} */ (byId('preview-video')),
  placeholder: byId('preview-placeholder'),
  camera: /** @type {HTMLSelectElement} */ (byId('camera')),
  microphone: /** @type {HTMLSelectElement} */ (byId('microphone')),
  meter: byId('mic-level'),
});

/** @type {Signaling|null} */
let signaling = null;
/** @type {Peers|null} */
let peers = null;
let me = { id: '', name: '' };
let micOn = true, cameraOn = true, screenOn = false;

/** Ask the server for a join token for the name typed. */
async function joinToken() {
  const body = new URLSearchParams({ display_name: /** @type {HTMLInputElement} */ (byId('display-name')).value });
  const resp = await fetch(joinURL, { method: 'POST', body, credentials: 'same-origin' });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || 'The meeting could not be joined. Please try again.');
  return data;
}

async function join(/** @type {SubmitEvent} */ ev) {
  ev.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (byId('join-button'));
  const error = byId('join-error');
  button.disabled = true;
  error.hidden = true;
  let first;
  try {
    first = await joinToken();
  } catch (err) {
    error.textContent = err instanceof Error ? err.message : String(err);
    error.hidden = false;
    button.disabled = false;
    return;
  }
  signaling = new Signaling(first.socket);
  let token = first.token;
  signaling.freshToken = async () => {
    const t = token || (await joinToken()).token;
    token = '';
    return t;
  };
  wire(signaling);
  await signaling.start();
}

/** @param {Signaling} s */
function wire(s) {
  s.onstate = (state, detail) => {
    document.body.classList.toggle('reconnecting', state === 'reconnecting');
    if (state === 'reconnecting') ui.announce('Connection lost. Reconnecting…');
    if (state === 'closed' && byId('finished').hidden) {
      ui.finish('You were disconnected', detail === 'lost'
        ? 'The connection to the meeting was lost. Reload the page to join again.'
        : 'The connection to the meeting was closed. Reload the page to join again.');
      stopMedia();
    }
  };
  s.on('welcome', welcome);
  s.on('lobby_status', (m) => ui.lobbyStatus(m.host_present));
  s.on('admitted', (m) => enterRoom(m.participants, s.iceServers || []));
  s.on('denied', (m) => {
    s.finish();
    ui.finish('The host did not let you in', m.message || 'You can close this page.');
    stopMedia();
  });
  s.on('ended', () => {
    s.finish();
    ui.finish('The meeting has ended', 'The host ended the meeting for everyone. Thank you for coming.');
    stopMedia();
  });
  s.on('lobby', (m) => ui.lobby(m.entries, admit, deny));
  s.on('participant_joined', (m) => ui.upsert(m.participant));
  s.on('participant_updated', (m) => ui.upsert(m.participant));
  s.on('participant_left', (m) => ui.removeTile(m.participant_id));
  s.on('offer', (m) => peers && peers.handleOffer(m).catch(report));
  s.on('answer', (m) => peers && peers.handleAnswer(m).catch(report));
  s.on('error', (m) => {
    console.warn('classmeet:', m.code, m.message);
    if (m.code === 'bad_token' || m.code === 'meeting_gone') {
      s.finish();
      ui.finish('You could not join', m.message);
      stopMedia();
    }
  });
}

/** @param {any} m the welcome */
function welcome(m) {
  if (!signaling) return;
  const resumed = me.id === m.you.id;
  me = m.you;
  signaling.iceServers = m.ice_servers || [];
  if (m.presence === 'lobby') {
    ui.lobbyStatus(m.host_present);
    const lv = /** @type {HTMLVideoElement} */ (byId('lobby-video'));
    previewReady.then((stream) => { if (stream) lv.srcObject = new MediaStream(stream.getVideoTracks()); });
    ui.show('lobby');
    return;
  }
  if (resumed && peers) {
    // Back after a network drop: same PeerConnections, fresh ICE.
    for (const p of m.participants) ui.upsert(p);
    peers.resetNegotiation();
    peers.restartIce().catch(report);
    sendMediaState();
    ui.announce('Reconnected.');
    return;
  }
  enterRoom(m.participants, signaling.iceServers);
  if (isHost) ui.lobby(m.lobby || [], admit, deny);
}

/** @param {any[]} participants @param {RTCIceServer[]} iceServers */
function enterRoom(participants, iceServers) {
  if (!signaling) return;
  ui.show('room');
  ui.upsert({ id: me.id, name: me.name, role: me.role, presence: 'room', audio: micOn, video: cameraOn, screen: false }, true);
  for (const p of participants) ui.upsert(p);
  if (peers) peers.close();
  peers = new Peers(signaling, iceServers, {
    ontrack: (info, track, mid) => ui.attach(mid, info, track),
    ongone: (mid) => ui.dropTrack(mid),
  });
  const p = peers;
  previewReady.then((stream) => {
    if (!stream || peers !== p) return; // no camera, or already left
    ui.selfView(me.id, stream);
    return p.publish(stream);
  }).catch(report);
  sendMediaState();
}

function sendMediaState() {
  if (signaling) signaling.send({ type: 'media_state', audio: micOn, video: cameraOn, screen: screenOn });
}

/** @param {string} id */
function admit(id) { signaling?.send({ type: 'admit', participant: id }); }
/** @param {string} id @param {string} message */
function deny(id, message) { signaling?.send({ type: 'deny', participant: id, message }); }

function stopMedia() {
  if (peers) peers.close();
  peers = null;
  preview.stop();
}

/** @param {unknown} err */
function report(err) {
  console.error('classmeet:', err);
}

function setMic(/** @type {boolean} */ on) {
  micOn = on;
  for (const t of preview.stream?.getAudioTracks() || []) t.enabled = on;
  const b = byId('toggle-mic');
  b.textContent = on ? 'Mute' : 'Unmute';
  b.setAttribute('aria-pressed', String(on));
  ui.upsert({ id: me.id, name: me.name, role: me.role, presence: 'room', audio: micOn, video: cameraOn, screen: screenOn }, true);
  sendMediaState();
}

function setCamera(/** @type {boolean} */ on) {
  cameraOn = on;
  for (const t of preview.stream?.getVideoTracks() || []) t.enabled = on;
  const b = byId('toggle-camera');
  b.textContent = on ? 'Stop video' : 'Start video';
  b.setAttribute('aria-pressed', String(on));
  ui.upsert({ id: me.id, name: me.name, role: me.role, presence: 'room', audio: micOn, video: cameraOn, screen: screenOn }, true);
  sendMediaState();
}

async function toggleScreen() {
  if (!peers) return;
  const b = byId('toggle-screen');
  if (screenOn) {
    await peers.stopScreen();
    screenOn = false;
  } else {
    const stream = await peers.shareScreen(() => { if (screenOn) toggleScreen(); });
    if (!stream) return;
    screenOn = true;
  }
  b.textContent = screenOn ? 'Stop sharing' : 'Share screen';
  b.setAttribute('aria-pressed', String(screenOn));
  sendMediaState();
}

function leave() {
  if (!signaling) return;
  signaling.send({ type: 'leave' });
  signaling.finish();
  ui.finish('You left the meeting', 'Reload the page to join again.');
  stopMedia();
}

byId('join-form').addEventListener('submit', join);
byId('toggle-mic').addEventListener('click', () => setMic(!micOn));
byId('toggle-camera').addEventListener('click', () => setCamera(!cameraOn));
byId('toggle-screen').addEventListener('click', () => toggleScreen().catch(report));
for (const b of document.querySelectorAll('[data-action="leave"]')) b.addEventListener('click', leave);
if (isHost) {
  byId('end-meeting').addEventListener('click', () => {
    if (window.confirm('End the meeting for everyone?')) signaling?.send({ type: 'end_meeting' });
  });
  byId('admit-all').addEventListener('click', () => signaling?.send({ type: 'admit_all' }));
  byId('lobby-toggle').addEventListener('click', () => ui.openLobby(byId('lobby-panel').hidden));
}
preview.onchange = (stream) => {
  if (peers) peers.replaceTracks(stream).catch(report);
  if (me.id) ui.selfView(me.id, stream);
};
window.addEventListener('pagehide', () => { if (signaling && !signaling.finished) signaling.send({ type: 'leave' }); });
// Whoever joins before the camera is ready publishes once it is.
const previewReady = preview.start();
