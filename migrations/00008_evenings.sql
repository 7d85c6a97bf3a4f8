-- +goose Up
-- Families, as the school's information system exports them: students,
-- households (each with its own booking link) and their guardians, and which
-- teachers teach each student. external_id is the school's own key, so a
-- re-import updates instead of duplicating.
CREATE TABLE households (
    id          uuid PRIMARY KEY,
    external_id text NOT NULL CHECK (external_id <> ''),
    -- link_nonce is mixed into the booking link's MAC; a new nonce revokes the link.
    link_nonce  bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX households_external_key ON households (lower(external_id));

CREATE TABLE guardians (
    id           uuid PRIMARY KEY,
    household_id uuid NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> ''),
    email        text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    -- position orders a household's guardians: the first is its main contact.
    position     integer NOT NULL
);
CREATE UNIQUE INDEX guardians_household_name_key ON guardians (household_id, lower(name));

CREATE TABLE students (
    id          uuid PRIMARY KEY,
    external_id text NOT NULL CHECK (external_id <> ''),
    name        text NOT NULL CHECK (name <> ''),
    class_name  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX students_external_key ON students (lower(external_id));

-- A child of separated parents belongs to two households.
CREATE TABLE student_households (
    student_id   uuid NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    household_id uuid NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    PRIMARY KEY (student_id, household_id)
);
CREATE INDEX student_households_household_idx ON student_households (household_id);

CREATE TABLE student_teachers (
    student_id uuid NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    teacher_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject    text NOT NULL DEFAULT '',
    PRIMARY KEY (student_id, teacher_id)
);
CREATE INDEX student_teachers_teacher_idx ON student_teachers (teacher_id);

-- A parents' evening. Times are instants; time_zone says how to show them.
CREATE TABLE evenings (
    id                 uuid PRIMARY KEY,
    owner_id           uuid NOT NULL REFERENCES users (id),
    name               text NOT NULL CHECK (name <> ''),
    time_zone          text NOT NULL,
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL CHECK (ends_at > starts_at),
    slot_minutes       integer NOT NULL CHECK (slot_minutes BETWEEN 1 AND 120),
    gap_minutes        integer NOT NULL DEFAULT 0 CHECK (gap_minutes BETWEEN 0 AND 60),
    travel_minutes     integer NOT NULL DEFAULT 0 CHECK (travel_minutes BETWEEN 0 AND 60),
    booking_opens_at   timestamptz NOT NULL,
    booking_closes_at  timestamptz NOT NULL CHECK (booking_closes_at > booking_opens_at),
    -- classes the evening is for; empty: every class.
    classes            text[] NOT NULL DEFAULT '{}',
    second_guardian    boolean NOT NULL DEFAULT true,
    split_policy       text NOT NULL DEFAULT 'each_household'
                       CHECK (split_policy IN ('each_household', 'shared')),
    reminder_minutes   integer NOT NULL DEFAULT 60 CHECK (reminder_minutes BETWEEN 0 AND 10080),
    grace_seconds      integer NOT NULL DEFAULT 60 CHECK (grace_seconds BETWEEN 0 AND 900),
    recording_policy   text NOT NULL DEFAULT 'not_allowed'
                       CHECK (recording_policy IN ('not_allowed', 'host_may_record')),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    cancelled_at       timestamptz
);
CREATE INDEX evenings_starts_idx ON evenings (starts_at);

-- The teachers taking part: each has one room (a meeting) for the whole
-- evening, and may have their own hours and appointment length (NULL: the
-- evening's).
CREATE TABLE evening_teachers (
    evening_id    uuid NOT NULL REFERENCES evenings (id) ON DELETE CASCADE,
    teacher_id    uuid NOT NULL REFERENCES users (id),
    meeting_id    uuid NOT NULL UNIQUE REFERENCES meetings (id),
    starts_at     timestamptz,
    ends_at       timestamptz,
    slot_minutes  integer CHECK (slot_minutes BETWEEN 1 AND 120),
    -- minutes the teacher said they are running late, shown to families.
    late_minutes  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (evening_id, teacher_id)
);
CREATE INDEX evening_teachers_teacher_idx ON evening_teachers (teacher_id);

-- Breaks: for everyone (teacher_id NULL) or for one teacher.
CREATE TABLE evening_breaks (
    id         uuid PRIMARY KEY,
    evening_id uuid NOT NULL REFERENCES evenings (id) ON DELETE CASCADE,
    teacher_id uuid REFERENCES users (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at)
);
CREATE INDEX evening_breaks_evening_idx ON evening_breaks (evening_id);

-- The slots generated from the evening's rules, per teacher.
CREATE TABLE evening_slots (
    id         uuid PRIMARY KEY,
    evening_id uuid NOT NULL REFERENCES evenings (id) ON DELETE CASCADE,
    teacher_id uuid NOT NULL REFERENCES users (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    UNIQUE (evening_id, teacher_id, starts_at)
);

-- A booking is one appointment: a household, about one child, with one
-- teacher, in one slot. Moving it changes its slot and bumps sequence (the
-- iCalendar SEQUENCE; the UID is the booking id and never changes).
CREATE TABLE bookings (
    id           uuid PRIMARY KEY,
    evening_id   uuid NOT NULL REFERENCES evenings (id) ON DELETE CASCADE,
    slot_id      uuid NOT NULL REFERENCES evening_slots (id),
    teacher_id   uuid NOT NULL REFERENCES users (id),
    household_id uuid NOT NULL REFERENCES households (id),
    student_id   uuid NOT NULL REFERENCES students (id),
    -- share_key is what may be booked once per teacher: the child (shared
    -- appointments of split households) or the child in this household.
    share_key    text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    booked_by    text NOT NULL CHECK (booked_by IN ('family', 'staff')),
    sequence     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    -- what happened on the evening
    started_at   timestamptz,
    ended_at     timestamptz,
    outcome      text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'held', 'ended_early', 'no_show'))
);
-- Double booking is impossible by construction: one live booking per slot,
-- and one per child (or child and household) per teacher and evening.
CREATE UNIQUE INDEX bookings_slot_taken ON bookings (slot_id) WHERE cancelled_at IS NULL;
CREATE UNIQUE INDEX bookings_once_per_teacher ON bookings (evening_id, teacher_id, share_key) WHERE cancelled_at IS NULL;
CREATE INDEX bookings_household_idx ON bookings (household_id, evening_id);
CREATE INDEX bookings_teacher_idx ON bookings (evening_id, teacher_id, starts_at);

-- The teacher's private notes on an appointment.
CREATE TABLE appointment_notes (
    booking_id uuid PRIMARY KEY REFERENCES bookings (id) ON DELETE CASCADE,
    author_id  uuid NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (char_length(body) <= 10000),
    updated_at timestamptz NOT NULL
);

-- An evening room is a meeting; an appointment's guardians are invitees of
-- it, each with their personal join link.
ALTER TABLE meetings ADD COLUMN evening_id uuid REFERENCES evenings (id) ON DELETE CASCADE;
ALTER TABLE invitees ADD COLUMN booking_id uuid REFERENCES bookings (id) ON DELETE CASCADE;
CREATE INDEX invitees_booking_idx ON invitees (booking_id) WHERE booking_id IS NOT NULL;

-- Outgoing mail waits here until it is sent (or, without SMTP, for the
-- outbox page): a restart loses none.
CREATE TABLE mail_queue (
    id              uuid PRIMARY KEY,
    -- a later message with the same key replaces an unsent one (reminders).
    dedupe_key      text NOT NULL DEFAULT '',
    kind            text NOT NULL,
    to_name         text NOT NULL DEFAULT '',
    to_addr         text NOT NULL CHECK (to_addr <> ''),
    subject         text NOT NULL,
    body            text NOT NULL,
    attachment_name text NOT NULL DEFAULT '',
    attachment_type text NOT NULL DEFAULT '',
    attachment      bytea,
    evening_id      uuid REFERENCES evenings (id) ON DELETE SET NULL,
    household_id    uuid REFERENCES households (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL,
    send_after      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    -- failed_at: given up on after retrying; "send again" clears it.
    failed_at       timestamptz,
    cancelled_at    timestamptz
);
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL;
-- A failed message counts as pending here ("send again" may revive it):
-- replacing one cancels it, failed or not.
CREATE UNIQUE INDEX mail_queue_pending_key ON mail_queue (dedupe_key)
    WHERE dedupe_key <> '' AND sent_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX mail_queue_created_idx ON mail_queue (created_at DESC);

-- +goose Down
DROP TABLE mail_queue;
DROP INDEX invitees_booking_idx;
ALTER TABLE invitees DROP COLUMN booking_id;
ALTER TABLE meetings DROP COLUMN evening_id;
DROP TABLE appointment_notes;
DROP TABLE bookings;
DROP TABLE evening_slots;
DROP TABLE evening_breaks;
DROP TABLE evening_teachers;
DROP TABLE evenings;
DROP TABLE student_teachers;
DROP TABLE student_households;
DROP TABLE students;
DROP TABLE guardians;
DROP TABLE households;
