// room.js: a meeting, from the pre-join check to the end. One page moves
// through four screens — pre-join, lobby, room, finished — so the camera
// stays on and a reconnect never reloads anything. What a host decides
// (mute, stop video, remove) is enforced by the server; this page only
// reflects it.

import { byId } from './dom.js';
import { Preview, playTone } from './preview.js';
import { Signaling } from './signaling.js';
import { Peers } from './peers.js';
import { UI, toggleFullscreen } from './ui.js';
import { TileSizes } from './tilesize.js';
import { Bandwidth } from './bandwidth.js';
import { Panels } from './panels.js';
import { Recording } from './recording.js';
import { Timekeeping } from './timetable.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').Self} Self */
/** @typedef {import('./protocol.js').You} You */
/** @typedef {import('./protocol.js').Policy} Policy */
/** @typedef {import('./protocol.js').Welcome} Welcome */

const app = byId('app');
const joinURL = app.dataset.joinUrl || '';
const ui = new UI();
ui.sizes = new TileSizes((m) => signaling?.send(m));
const bandwidth = new Bandwidth({ send: (m) => signaling?.send(m), sizes: ui.sizes, ui, announce: (text) => ui.announce(text) });
const panels = new Panels((m) => signaling?.send(m));
const recording = new Recording((m) => signaling?.send(m), (text) => ui.announce(text));
// A family's personal link joins at /j/{token}/join; its thank-you page is beside it.
const thanksURL = /^\/j\/[^/]+\/join$/.test(joinURL) ? joinURL.replace(/\/join$/, '/thanks') : '';
const timekeeping = new Timekeeping((m) => signaling?.send(m), thanksURL);
const preview = new Preview({
  video: /** @type {HTMLVideoElement} */ (byId('preview-video')),
  placeholder: byId('preview-placeholder'),
  camera: /** @type {HTMLSelectElement} */ (byId('camera')),
  microphone: /** @type {HTMLSelectElement} */ (byId('microphone')),
  meter: byId('mic-level'),
  micOn: /** @type {HTMLInputElement} */ (byId('join-mic')),
  cameraOn: /** @type {HTMLInputElement} */ (byId('join-camera')),
  problem: byId('device-problem'),
  problemText: byId('device-problem-text'),
});

/** @type {Signaling|null} */
let signaling = null;
/** @type {Peers|null} */
let peers = null;
/** @type {Self} */
let me = { id: '', name: '', role: '' };
let micOn = true, cameraOn = true, screenOn = false;
/** @type {You} What the meeting lets us do now (the latest "you"). */
let may = { role: '', audio_blocked: false, video_blocked: false, screen_blocked: false, may_unmute: true, may_video: true, may_share: false, may_chat: true, hand_raised: false, by: '' };
/** @type {Policy} */
let policy = { unmute: 'self', screen_share: 'hosts', chat: true, locked: false };

/** Ask the server for a join token for the name typed.
 * @returns {Promise<{token: string, socket: string}>} the token and the socket to use it on */
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
  // The choices made here are what the room starts with (publish() holds
  // them to the devices there are).
  micOn = /** @type {HTMLInputElement} */ (byId('join-mic')).checked;
  cameraOn = /** @type {HTMLInputElement} */ (byId('join-camera')).checked;
  if (/** @type {HTMLInputElement} */ (byId('join-audio-only')).checked) bandwidth.choose('audio');
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

/** @param {string} title @param {string} text */
function finish(title, text) {
  signaling?.finish();
  ui.finish(title, text);
  stopMedia();
}

/** A family's appointment is over: thanks, and the thank-you page. */
function appointmentOver() {
  finish('Your appointment is over', 'Thank you for coming.');
  timekeeping.over();
}

/** @param {Signaling} s */
function wire(s) {
  s.onstate = (state, detail) => {
    document.body.classList.toggle('reconnecting', state === 'reconnecting');
    if (state === 'reconnecting') ui.announce('Connection lost. Reconnecting…');
    if (state === 'closed' && detail === 'appointment_over' && byId('finished').hidden) {
      appointmentOver();
    } else if (state === 'closed' && byId('finished').hidden) {
      finish('You were disconnected', detail === 'lost'
        ? 'The connection to the meeting was lost. Reload the page to join again.'
        : 'The connection to the meeting was closed. Reload the page to join again.');
    }
  };
  s.on('welcome', welcome);
  s.on('lobby_status', (m) => ui.lobbyStatus(m.host_present));
  s.on('admitted', (m) => enterRoom(m.participants));
  s.on('denied', (m) => finish('The host did not let you in', m.message || 'You can close this page.'));
  s.on('ended', () => finish('The meeting has ended', 'The host ended the meeting for everyone. Thank you for coming.'));
  s.on('removed', (m) => finish('You were removed from this meeting', m.banned
    ? 'The host removed you, and your link will not let you back into this meeting.'
    : 'The host removed you from the meeting.'));
  s.on('sent_to_lobby', () => {
    closePeers();
    ui.show('lobby');
    ui.announce('The host moved you back to the lobby.');
  });
  s.on('lobby', (m) => {
    // A knock opens the lobby panel unless the host is using another panel
    // (say, typing in the chat): then the banner tells them instead.
    if (ui.lobby(m.entries, admit, deny) && !panels.anyOpen()) panels.open('lobby-panel');
    ui.lobbyBanner();
  });
  s.on('participant_joined', (m) => { ui.upsert(m.participant); panels.upsert(m.participant); });
  s.on('participant_updated', (m) => { ui.upsert(m.participant); panels.upsert(m.participant); });
  s.on('participant_left', (m) => { ui.removeTile(m.participant_id); panels.remove(m.participant_id); });
  s.on('offer', (m) => peers && peers.handleOffer(m).catch(report));
  s.on('answer', (m) => peers && peers.handleAnswer(m).catch(report));
  s.on('you', you);
  s.on('policy', (m) => setPolicy(m.policy));
  s.on('asked_to_unmute', (m) => {
    byId('ask-unmute-text').textContent = `${m.by} asks you to turn your microphone on.`;
    byId('ask-unmute').hidden = false;
  });
  s.on('chat', (m) => panels.chat(m.message));
  s.on('chat_history', (m) => panels.history(m.messages));
  s.on('chat_deleted', (m) => panels.chatDeleted(m.id));
  s.on('hands', (m) => {
    const raised = panels.hands(m.queue);
    if (raised && panels.moderator) {
      ui.chime();
      ui.announce(`${raised.name} raised a hand`);
    }
  });
  s.on('reaction', (m) => ui.react(m.participant, m.reaction));
  s.on('video_paused', (m) => ui.weakLink(m.tracks || []));
  s.on('quality', (m) => {
    ui.quality(m.levels || {});
    panels.quality(m.details || {});
    bandwidth.quality((m.levels || {})[me.id] || '');
  });
  s.on('recording', (m) => recording.update(m));
  s.on('consents', (m) => recording.consents(m.entries || []));
  s.on('appointment', (m) => (m.status === 'over' ? appointmentOver() : timekeeping.appointment(m)));
  s.on('timetable', (m) => timekeeping.timetable(m));
  s.on('wrap_up', (m) => timekeeping.wrapUp(m));
  s.on('error', (m) => {
    console.warn('classmeet:', m.code, m.message);
    if (m.code === 'revoked') {
      finish('You were signed out', m.message);
    } else if (m.code === 'meeting_ended') {
      finish('The meeting has ended', 'The host ended this meeting for everyone. Thank you for coming.');
    } else if (['bad_token', 'meeting_gone', 'removed', 'locked', 'already_joined'].includes(m.code)) {
      finish('You could not join', m.message);
    } else if (m.code === 'recording_failed' || (m.in_reply_to && ['already_recording', 'not_recording', 'unavailable'].includes(m.code))) {
      recording.failed(m.message);
    } else if (['next_appointment', 'no_appointment', 'no_timetable'].includes(m.code)) {
      timekeeping.refused(m.message);
    } else if (m.code === 'not_allowed') {
      ui.announce(m.message);
      recording.busy = false;
      recording.render();
    }
  });
}

/** @param {Welcome} m */
function welcome(m) {
  if (!signaling) return;
  const resumed = me.id === m.you.id;
  me = m.you;
  panels.setMe(me.id, me.role);
  recording.setRole(me.role);
  recording.update(m.recording || { active: false, consent: '' });
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
    for (const p of m.participants) { ui.upsert(p); panels.upsert(p); }
    peers.resetNegotiation();
    peers.restartIce().catch(report);
    sendMediaState();
    bandwidth.entered();
    ui.announce('Reconnected.');
    return;
  }
  enterRoom(m.participants);
  // Families already waiting as the host arrives: the banner says so at once.
  if (me.role === 'host') ui.lobby(m.lobby || [], admit, deny);
}

/** @param {Participant[]} participants */
function enterRoom(participants) {
  if (!signaling) return;
  ui.show('room');
  closePeers(); // first: a share from before is over, and our own row says so
  const self = myself();
  ui.upsert(self, true);
  panels.upsert(self);
  for (const p of participants) { ui.upsert(p); panels.upsert(p); }
  peers = new Peers(signaling, signaling.iceServers || [], {
    ontrack: (info, track, mid) => ui.attach(mid, info, track),
    ongone: (mid) => ui.dropTrack(mid),
  });
  bandwidth.entered();
  ui.weakLink([]); // a new server-side peer holds back nothing yet
  if (me.role !== 'observer') publish();
}

/** Start sending the camera and microphone, once the preview has them, and
 * tell the server whether each is on: as chosen before joining, and off
 * where the device is missing or denied. */
function publish() {
  const p = peers;
  previewReady.then((stream) => {
    if (peers !== p || !p) return; // already left
    applyMic(micOn);
    applyCamera(cameraOn);
    sendMediaState();
    if (!stream) return; // listening only
    ui.selfView(me.id, stream);
    return p.publish(stream);
  }).catch(report);
}

/** What the meeting lets us do changed. @param {You} m */
function you(m) {
  const wasObserver = me.role === 'observer';
  me.role = m.role;
  may = m;
  panels.setMe(me.id, me.role);
  recording.setRole(me.role);
  panels.chatAllowed(m.may_chat);
  if (m.role === 'observer' && !wasObserver && peers) {
    peers.unpublish();
    micOn = cameraOn = false;
  } else if (wasObserver && m.role !== 'observer' && peers) {
    micOn = cameraOn = true;
    publish();
  }
  if (m.audio_blocked && micOn) applyMic(false);
  if (m.video_blocked && cameraOn) applyCamera(false);
  if (m.screen_blocked && screenOn) toggleScreen().catch(report);
  const notice = byId('moderation-notice');
  const stopped = [m.audio_blocked && 'microphone', m.video_blocked && 'camera'].filter(Boolean);
  notice.hidden = stopped.length === 0;
  if (stopped.length) {
    const by = m.by ? `${m.by} stopped` : 'A host stopped';
    const ask = (m.audio_blocked && !m.may_unmute) || (m.video_blocked && !m.may_video)
      ? ' Raise your hand to ask to be let back on.' : ' You may turn it back on.';
    notice.textContent = `${by} your ${stopped.join(' and ')}.${ask}`;
  }
  const hand = byId('toggle-hand');
  hand.textContent = m.hand_raised ? 'Lower hand' : 'Raise hand';
  hand.setAttribute('aria-pressed', String(m.hand_raised));
  byId('toggle-screen').hidden = !m.may_share;
  const observing = m.role === 'observer';
  byId('toggle-mic').hidden = observing;
  byId('toggle-camera').hidden = observing;
  renderButtons();
}

/** @param {Policy} p */
function setPolicy(p) {
  policy = p;
  byId('locked-badge').hidden = !p.locked;
  const lock = /** @type {HTMLElement} */ (document.querySelector('[data-meeting="lock"]'));
  lock.textContent = p.locked ? 'Unlock meeting' : 'Lock meeting';
  /** @type {HTMLInputElement} */ (byId('policy-self-unmute')).checked = p.unmute === 'self';
  /** @type {HTMLInputElement} */ (byId('policy-screen')).checked = p.screen_share === 'everyone';
  /** @type {HTMLInputElement} */ (byId('policy-chat')).checked = p.chat;
}

function sendMediaState() {
  if (signaling && me.role !== 'observer') signaling.send({ type: 'media_state', audio: micOn, video: cameraOn, screen: screenOn });
}

/** @param {string} id */
function admit(id) { signaling?.send({ type: 'admit', participant: id }); }
/** @param {string} id @param {string} message */
function deny(id, message) { signaling?.send({ type: 'deny', participant: id, message }); }

function closePeers() {
  if (peers) peers.close();
  peers = null;
  screenOn = false;
  byId('presenting-bar').hidden = true;
}

function stopMedia() {
  closePeers();
  preview.stop();
}

/** @param {unknown} err */
function report(err) {
  console.error('classmeet:', err);
}

function renderButtons() {
  const hasMic = preview.has('audio'), hasCam = preview.has('video');
  const mic = /** @type {HTMLButtonElement} */ (byId('toggle-mic'));
  mic.textContent = !hasMic ? 'No microphone' : micOn ? 'Mute' : 'Unmute';
  mic.setAttribute('aria-pressed', String(micOn));
  mic.disabled = !hasMic || (!micOn && may.audio_blocked && !may.may_unmute);
  const cam = /** @type {HTMLButtonElement} */ (byId('toggle-camera'));
  cam.textContent = !hasCam ? 'No camera' : cameraOn ? 'Stop video' : 'Start video';
  cam.setAttribute('aria-pressed', String(cameraOn));
  cam.disabled = !hasCam || (!cameraOn && may.video_blocked && !may.may_video);
  ui.upsert(myself(), true);
}

/** How we appear in our own tile and the people panel: the server sends
 * everyone else's state, ours is what this page and the latest "you" say.
 * @returns {Participant} */
function myself() {
  return {
    id: me.id, name: me.name, role: me.role, presence: 'room', audio: micOn, video: cameraOn, screen: screenOn,
    audio_blocked: may.audio_blocked, video_blocked: may.video_blocked, screen_blocked: may.screen_blocked,
    hand_raised_at: may.hand_raised ? 'yes' : '', // only whether it is set is shown
  };
}

/** @param {boolean} on */
function applyMic(on) {
  micOn = on && preview.has('audio');
  for (const t of preview.stream?.getAudioTracks() || []) t.enabled = on;
  renderButtons();
}

/** @param {boolean} on */
function applyCamera(on) {
  cameraOn = on && preview.has('video');
  for (const t of preview.stream?.getVideoTracks() || []) t.enabled = on;
  renderButtons();
}

function setMic(/** @type {boolean} */ on) {
  if (on && may.audio_blocked && !may.may_unmute) return;
  applyMic(on);
  byId('ask-unmute').hidden = true;
  sendMediaState();
}

function setCamera(/** @type {boolean} */ on) {
  if (on && may.video_blocked && !may.may_video) return;
  applyCamera(on);
  sendMediaState();
}

async function toggleScreen() {
  if (!peers) return;
  const b = byId('toggle-screen');
  if (screenOn) {
    screenOn = false;
    await peers.stopScreen();
  } else {
    const stream = await peers.shareScreen(() => { if (screenOn) toggleScreen().catch(report); });
    if (!stream) return;
    screenOn = true;
  }
  b.textContent = screenOn ? 'Stop sharing' : 'Share screen';
  b.setAttribute('aria-pressed', String(screenOn));
  // The server does not send our own share back, so the stage shows this
  // bar in its place: no mirror of the screen inside itself.
  byId('presenting-bar').hidden = !screenOn;
  sendMediaState();
}

function renderView() {
  const b = byId('toggle-view');
  b.setAttribute('aria-pressed', String(ui.view === 'speaker'));
}

/** The fullscreen control shows only where the page can put an element in
 * fullscreen (not on an iPhone), and says whether the stage is. */
function renderFullscreen() {
  const b = byId('toggle-fullscreen');
  b.hidden = !document.fullscreenEnabled;
  const on = document.fullscreenElement === byId('stage');
  b.textContent = on ? 'Exit full screen' : 'Full screen';
  b.setAttribute('aria-pressed', String(on));
  byId('exit-fullscreen').hidden = !on;
}

/** Play a tone so a parent can check they will hear the meeting. */
async function testSpeaker() {
  const b = /** @type {HTMLButtonElement} */ (byId('test-speaker'));
  const status = byId('speaker-status');
  b.disabled = true;
  status.textContent = 'Playing a tone…';
  try {
    ui.audioCtx = ui.audioCtx || new AudioContext();
    await ui.audioCtx.resume();
    await playTone(ui.audioCtx);
    status.textContent = 'Did you hear a tone? If not, turn your volume up or check your headphones.';
  } catch {
    status.textContent = 'This browser could not play a tone.';
  } finally {
    b.disabled = false;
  }
}

function leave() {
  if (!signaling) return;
  signaling.send({ type: 'leave' });
  finish('You left the meeting', 'Reload the page to join again.');
}

/** A host's meeting-wide action. @param {string} act */
function meetingAction(act) {
  if (!signaling) return;
  switch (act) {
    case 'mute_all': signaling.send({ type: 'mute_all', kind: 'audio' }); break;
    case 'stop_all_video': signaling.send({ type: 'mute_all', kind: 'video' }); break;
    case 'lower_all_hands': signaling.send({ type: 'lower_all_hands' }); break;
    case 'lock': signaling.send({ type: 'lock', locked: !policy.locked }); break;
  }
}

function sendChat(/** @type {SubmitEvent} */ ev) {
  ev.preventDefault();
  const text = /** @type {HTMLTextAreaElement} */ (byId('chat-text'));
  const to = /** @type {HTMLSelectElement} */ (byId('chat-to'));
  if (text.value.trim() === '' || !signaling) return;
  signaling.send({ type: 'chat', text: text.value, to: to.value });
  text.value = '';
  text.focus();
}

byId('join-form').addEventListener('submit', join);
// The button is rendered disabled: pressed before this script ran, the bare
// form would reload the page instead of joining.
{
  const button = /** @type {HTMLButtonElement} */ (byId('join-button'));
  if (!button.hasAttribute('data-blocked')) button.disabled = false;
}
byId('toggle-mic').addEventListener('click', () => setMic(!micOn));
byId('toggle-camera').addEventListener('click', () => setCamera(!cameraOn));
byId('toggle-screen').addEventListener('click', () => toggleScreen().catch(report));
byId('stop-presenting').addEventListener('click', () => { if (screenOn) toggleScreen().catch(report); });
byId('toggle-view').addEventListener('click', () => { ui.setView(ui.view === 'speaker' ? 'gallery' : 'speaker'); renderView(); });
byId('toggle-fullscreen').addEventListener('click', () => toggleFullscreen(byId('stage')));
byId('exit-fullscreen').addEventListener('click', () => { if (document.fullscreenElement) document.exitFullscreen().catch(report); });
document.addEventListener('fullscreenchange', renderFullscreen);
renderView();
renderFullscreen();
byId('toggle-hand').addEventListener('click', () => signaling?.send({ type: may.hand_raised ? 'lower_hand' : 'raise_hand', ...(may.hand_raised ? { participant: '' } : {}) }));
for (const b of document.querySelectorAll('[data-reaction]')) {
  b.addEventListener('click', () => signaling?.send({ type: 'react', reaction: /** @type {HTMLElement} */ (b).dataset.reaction }));
}
for (const b of document.querySelectorAll('[data-panel]')) {
  b.addEventListener('click', () => { panels.toggle(b.getAttribute('data-panel') || ''); ui.lobbyBanner(); });
}
for (const b of document.querySelectorAll('[data-meeting]')) {
  b.addEventListener('click', () => meetingAction(/** @type {HTMLElement} */ (b).dataset.meeting || ''));
}
byId('policy-self-unmute').addEventListener('change', (ev) => signaling?.send({ type: 'set_policy', unmute: /** @type {HTMLInputElement} */ (ev.target).checked ? 'self' : 'ask' }));
byId('policy-screen').addEventListener('change', (ev) => signaling?.send({ type: 'set_policy', screen_share: /** @type {HTMLInputElement} */ (ev.target).checked ? 'everyone' : 'hosts' }));
byId('policy-chat').addEventListener('change', (ev) => signaling?.send({ type: 'set_policy', chat: /** @type {HTMLInputElement} */ (ev.target).checked }));
byId('chat-form').addEventListener('submit', sendChat);
byId('chat-text').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); /** @type {HTMLFormElement} */ (byId('chat-form')).requestSubmit(); }
});
byId('ask-unmute-yes').addEventListener('click', () => setMic(true));
byId('ask-unmute-no').addEventListener('click', () => { byId('ask-unmute').hidden = true; });
for (const b of document.querySelectorAll('[data-action="leave"]')) b.addEventListener('click', leave);
const end = document.getElementById('end-meeting');
if (end) {
  end.addEventListener('click', () => {
    if (window.confirm('End the meeting for everyone?')) signaling?.send({ type: 'end_meeting' });
  });
  byId('admit-all').addEventListener('click', () => signaling?.send({ type: 'admit_all' }));
  byId('lobby-banner-admit').addEventListener('click', () => {
    const w = ui.waiting;
    if (w.length === 1) admit(w[0].id); else if (w.length > 1) signaling?.send({ type: 'admit_all' });
  });
}
// Annotated here: tsc reads an assignment to a top-level object's property in
// a .js file as declaring it, so the type from Preview does not reach stream.
preview.onchange = (/** @type {MediaStream} */ stream) => {
  if (peers) peers.replaceTracks(stream).catch(report);
  if (me.id) ui.selfView(me.id, stream);
};
window.addEventListener('pagehide', () => { if (signaling && !signaling.finished) signaling.send({ type: 'leave' }); });
// Whoever joins before the camera is ready publishes once it is.
let previewReady = preview.start();
byId('device-retry').addEventListener('click', () => { previewReady = preview.start(); });
byId('test-speaker').addEventListener('click', () => testSpeaker().catch(report));
