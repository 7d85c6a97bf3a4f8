// protocol.js: the shapes of what the server sends, for tsc only. Each
// typedef mirrors a server message in internal/meeting (see docs/protocol.md);
// the other modules import them with @typedef {import('./protocol.js').X},
// so one shape cannot drift between two panels. No page loads this file: it
// holds no code, and type imports vanish in the browser.

/**
 * What others see of a participant in the room. The server always sends every
 * field; hand_raised_at is RFC 3339, or "" with the hand down. A hand going
 * up or down arrives as a participant_updated, so tiles and the people list
 * show it; the hands message gives the queue's order.
 * @typedef {{
 *   id: string, name: string, role: string, presence: string,
 *   audio: boolean, video: boolean, screen: boolean,
 *   audio_blocked: boolean, video_blocked: boolean, screen_blocked: boolean,
 *   hand_raised_at: string,
 * }} Participant
 */

/** The receiving participant, in the welcome. @typedef {{id: string, name: string, role: string}} Self */

/** The meeting's rules right now. @typedef {{unmute: string, screen_share: string, chat: boolean, locked: boolean}} Policy */

/** One chat message as people see it. @typedef {{id: string, from: string, from_name: string, from_role: string, to: string, text: string, at: string}} ChatEntry */

/** One raised hand in the queue. @typedef {{participant: string, name: string, raised_at: string}} HandEntry */

/** One participant's connection figures (hosts only). @typedef {{level: string, loss: number, rtt_ms: number, jitter_ms: number}} QualityDetail */

/** What hosts see of someone waiting. @typedef {{id: string, name: string, invitee_name: string, name_matches: boolean, arrived_at: string}} LobbyEntry */

/** Whether the meeting is being recorded, and what the receiver answered. @typedef {{active: boolean, started_at?: string, by?: string, consent: string}} RecordingStatus */

/** One participant's answer about being recorded, for hosts. @typedef {{participant: string, name: string, answer: string, at: string}} ConsentEntry */

/** Whose media a received m-line carries. @typedef {{participant: string, source: string}} TrackInfo */

/**
 * What the meeting lets the receiver do now.
 * @typedef {{
 *   role: string, audio_blocked: boolean, video_blocked: boolean, screen_blocked: boolean,
 *   may_unmute: boolean, may_video: boolean, may_share: boolean, may_chat: boolean,
 *   hand_raised: boolean, by: string,
 * }} You
 */

/** The meeting, in the welcome. @typedef {{id: string, title: string, host_name: string, recording_policy: string, lobby_policy: string}} MeetingInfo */

/**
 * The answer to a join or resume.
 * @typedef {{
 *   you: Self, presence: string, resume: string, meeting: MeetingInfo, host_present: boolean,
 *   participants: Participant[], lobby: LobbyEntry[], ice_servers: RTCIceServer[]|null,
 *   recording: RecordingStatus,
 * }} Welcome
 */

/**
 * A family's appointment on a parents' evening: status waiting, running or
 * over; times RFC 3339; now is the server's time, to count down by.
 * @typedef {{status: string, teacher: string, starts_at: string, expected_at: string, ends_at: string, now: string}} Appointment
 */

/**
 * One appointment as the teacher sees it; waiting: someone of it is in the lobby.
 * @typedef {{
 *   booking: string, family: string, students: string, starts_at: string, ends_at: string,
 *   expected_at: string, started_at?: string, waiting: boolean,
 * }} TimetableEntry
 */

/**
 * The teacher's timetable of a parents' evening room.
 * @typedef {{
 *   current: TimetableEntry|null, next: TimetableEntry[], no_shows: TimetableEntry[],
 *   minutes_late: number, can_extend: boolean, now: string,
 * }} Timetable
 */

/**
 * Every server message the room handles, by its "type" (seq left out).
 * Go's nil maps arrive as null, hence the |null on quality and offer.
 * @typedef {{
 *   welcome: Welcome,
 *   lobby_status: {host_present: boolean},
 *   lobby: {entries: LobbyEntry[]},
 *   admitted: {participants: Participant[]},
 *   denied: {message: string},
 *   participant_joined: {participant: Participant},
 *   participant_updated: {participant: Participant},
 *   participant_left: {participant_id: string},
 *   offer: {pc: string, sdp: string, tracks: Record<string, TrackInfo>|null},
 *   answer: {pc: string, sdp: string},
 *   ended: {reason: string},
 *   you: You,
 *   policy: {policy: Policy},
 *   asked_to_unmute: {by: string},
 *   removed: {banned: boolean},
 *   sent_to_lobby: {},
 *   chat: {message: ChatEntry},
 *   chat_history: {messages: ChatEntry[]},
 *   chat_deleted: {id: string},
 *   hands: {queue: HandEntry[]},
 *   reaction: {participant: string, reaction: string},
 *   video_paused: {tracks: TrackInfo[]|null},
 *   quality: {levels: Record<string, string>|null, details: Record<string, QualityDetail>|null},
 *   recording: RecordingStatus,
 *   consents: {entries: ConsentEntry[]},
 *   appointment: Appointment,
 *   timetable: Timetable,
 *   wrap_up: {ends_at: string, booking?: string},
 *   error: {code: string, message: string, in_reply_to?: number},
 * }} ServerMessages
 */

export {};
