package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Roster is a validated set of families to write: what package roster reads
// from the school's file or from the hand form. Its types live here, not in
// roster, because roster uses schedule's rules and schedule uses the store.
type Roster struct {
	Households []RosterHousehold
	Students   []RosterStudent
}

// RosterHousehold is a household and its guardians, in order (the first is
// the main contact). Key is the school's key for it.
type RosterHousehold struct {
	Key       string
	Line      int // where it first appears, for errors
	Guardians []RosterGuardian
}

// RosterGuardian is a guardian of a household.
type RosterGuardian struct {
	Name, Email, Phone string
}

// RosterStudent is a student, the keys of the households they live in and
// the teachers who teach them.
type RosterStudent struct {
	ExternalID string
	Name       string
	ClassName  string
	Line       int
	Households []string
	Teachers   []RosterTeacher
}

// RosterTeacher is a staff account (by email) teaching a student a subject.
type RosterTeacher struct {
	Email   string
	Subject string
	Line    int // where it was named, for errors
}

// RowError is what is wrong with one line of a file (Line 0: with a form or
// the whole file).
type RowError struct {
	Line   int
	Reason string
}

func (e RowError) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// RowErrors is every problem found in a file, by line.
type RowErrors []RowError

func (es RowErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Sort orders the errors by line, keeping the order of those on one line.
func (es RowErrors) Sort() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

// Change counts what writing a roster did to one kind of row.
type Change struct {
	Created, Updated, Unchanged, Removed int
}

// RosterCounts is what an import did.
type RosterCounts struct {
	Students, Households, Guardians Change
	// Links between students and households, and students and teachers:
	// Created and Removed only.
	HouseholdLinks, TeacherLinks Change
}

// rosterLock serialises imports and hand edits: two at once would race on
// the same keys.
const rosterLock = 0x636c61737372 // "classr"

// ImportRoster writes a school's roster in one transaction: students by
// their external id, households by key (a new one gets a link nonce from
// nonce), guardians by household and name. For the households in the
// roster, its guardians are the only ones; for its students, its households
// and teachers are the only ones. Rows that did not change are not written.
// A teacher email that is not an enabled staff account fails the whole
// import with RowErrors.
func (s *Store) ImportRoster(ctx context.Context, r Roster, nonce func() []byte, now time.Time) (RosterCounts, error) {
	var c RosterCounts
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		w := &rosterWriter{tx: tx, r: r, now: now, nonce: nonce}
		if err := w.write(ctx); err != nil {
			return err
		}
		if err := w.pruneStudentsHouseholds(ctx); err != nil {
			return err
		}
		c = w.counts
		return nil
	})
	if err != nil {
		return RosterCounts{}, fmt.Errorf("store: import roster: %w", err)
	}
	return c, nil
}

// SaveFamily writes one household as typed by hand: id is the household
// being edited (uuid.Nil: a new one), r holds it alone. Its key may change,
// but not to another household's. Children no longer listed leave this
// household (not their other one); their student rows are kept.
func (s *Store) SaveFamily(ctx context.Context, id uuid.UUID, r Roster, nonce func() []byte, now time.Time) (uuid.UUID, error) {
	if len(r.Households) != 1 {
		return uuid.Nil, fmt.Errorf("store: save family: %d households, want 1", len(r.Households))
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		w := &rosterWriter{tx: tx, r: r, now: now, nonce: nonce}
		if err := w.lock(ctx); err != nil {
			return err
		}
		var err error
		if id, err = w.claimKey(ctx, id, r.Households[0].Key); err != nil {
			return err
		}
		if err := w.write(ctx); err != nil {
			return err
		}
		return w.pruneHouseholdStudents(ctx, id)
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("store: save family: %w", err)
	}
	return id, nil
}

// rosterWriter writes a roster inside one transaction: the roster goes into
// temporary tables by COPY, and each table is then brought in line with a
// few set-based statements, whatever the roster's size.
type rosterWriter struct {
	tx     pgx.Tx
	r      Roster
	now    time.Time
	nonce  func() []byte
	counts RosterCounts
	locked bool
}

func (w *rosterWriter) lock(ctx context.Context) error {
	if w.locked {
		return nil
	}
	_, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(rosterLock))
	w.locked = err == nil
	return err
}

// claimKey makes key the key of household id (uuid.Nil: a new one, created
// here) unless another household has it. A key may change its case.
func (w *rosterWriter) claimKey(ctx context.Context, id uuid.UUID, key string) (uuid.UUID, error) {
	var owner uuid.UUID
	err := w.tx.QueryRow(ctx, `SELECT id FROM households WHERE lower(external_id) = lower($1)`, key).Scan(&owner)
	switch {
	case err == nil && owner != id:
		return uuid.Nil, ErrHouseholdKeyTaken
	case err == nil:
		_, err = w.tx.Exec(ctx, `UPDATE households SET external_id = $2, updated_at = $3 WHERE id = $1 AND external_id <> $2`, id, key, w.now)
		return id, err
	case !errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, err
	case id == uuid.Nil:
		id = uuid.New()
		_, err = w.tx.Exec(ctx, `INSERT INTO households (id, external_id, link_nonce, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4)`, id, key, w.nonce(), w.now)
		return id, err
	}
	return id, affected(w.tx.Exec(ctx, `UPDATE households SET external_id = $2, updated_at = $3 WHERE id = $1`, id, key, w.now))
}

// write stages the roster and upserts every table from it.
func (w *rosterWriter) write(ctx context.Context) error {
	steps := []func(context.Context) error{
		w.lock, w.checkTeachers, w.stage, w.upsertHouseholds, w.upsertStudents,
		w.upsertGuardians, w.linkHouseholds, w.linkTeachers,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stage copies the roster into temporary tables dropped at commit.
func (w *rosterWriter) stage(ctx context.Context) error {
	_, err := w.tx.Exec(ctx, `
		CREATE TEMP TABLE roster_households (key text, nonce bytea) ON COMMIT DROP;
		CREATE TEMP TABLE roster_guardians (household_key text, name text, email text, phone text, position int) ON COMMIT DROP;
		CREATE TEMP TABLE roster_students (external_id text, name text, class_name text) ON COMMIT DROP;
		CREATE TEMP TABLE roster_links (student_key text, household_key text) ON COMMIT DROP;
		CREATE TEMP TABLE roster_teachers (student_key text, email text, subject text) ON COMMIT DROP`)
	if err != nil {
		return err
	}
	var hs, gs, ss, ls, ts [][]any
	for _, h := range w.r.Households {
		hs = append(hs, []any{h.Key, w.nonce()})
		for i, g := range h.Guardians {
			gs = append(gs, []any{h.Key, g.Name, g.Email, g.Phone, i})
		}
	}
	for _, s := range w.r.Students {
		ss = append(ss, []any{s.ExternalID, s.Name, s.ClassName})
		for _, key := range s.Households {
			ls = append(ls, []any{s.ExternalID, key})
		}
		for _, t := range s.Teachers {
			ts = append(ts, []any{s.ExternalID, t.Email, t.Subject})
		}
	}
	return w.copyAll(ctx, []staged{
		{"roster_households", []string{"key", "nonce"}, hs},
		{"roster_guardians", []string{"household_key", "name", "email", "phone", "position"}, gs},
		{"roster_students", []string{"external_id", "name", "class_name"}, ss},
		{"roster_links", []string{"student_key", "household_key"}, ls},
		{"roster_teachers", []string{"student_key", "email", "subject"}, ts},
	})
}

type staged struct {
	table string
	cols  []string
	rows  [][]any
}

func (w *rosterWriter) copyAll(ctx context.Context, tables []staged) error {
	for _, t := range tables {
		if _, err := w.tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
	}
	return nil
}

// checkTeachers refuses the roster when it names a teacher who is not an
// enabled staff account, with every line that does.
func (w *rosterWriter) checkTeachers(ctx context.Context) error {
	errs, err := rosterTeacherErrors(ctx, w.tx, w.r)
	if err == nil && len(errs) > 0 {
		return errs
	}
	return err
}

// CheckRosterTeachers reports each teacher of r who is not an enabled staff
// account, by the line naming them: the file's other problems and these are
// shown together.
func (s *Store) CheckRosterTeachers(ctx context.Context, r Roster) (RowErrors, error) {
	errs, err := rosterTeacherErrors(ctx, s.pool, r)
	if err != nil {
		return nil, fmt.Errorf("store: check roster teachers: %w", err)
	}
	return errs, nil
}

func rosterTeacherErrors(ctx context.Context, q querier, r Roster) (RowErrors, error) {
	var emails []string
	for _, s := range r.Students {
		for _, t := range s.Teachers {
			emails = append(emails, strings.ToLower(t.Email))
		}
	}
	known, err := all[struct {
		Email string `db:"email"`
	}](q.Query(ctx, `SELECT lower(email) AS email FROM users WHERE lower(email) = ANY($1) AND disabled_at IS NULL`, emails))
	if err != nil {
		return nil, err
	}
	enabled := map[string]bool{}
	for _, k := range known {
		enabled[k.Email] = true
	}
	var errs RowErrors
	for _, s := range r.Students {
		for _, t := range s.Teachers {
			if !enabled[strings.ToLower(t.Email)] {
				errs = append(errs, RowError{Line: t.Line, Reason: fmt.Sprintf("teachers: %s is not an enabled staff account", t.Email)})
			}
		}
	}
	errs.Sort()
	return errs, nil
}

// counted runs an upsert whose RETURNING says, per written row, whether it
// was inserted, and counts the rest of total as unchanged.
func (w *rosterWriter) counted(ctx context.Context, c *Change, total int, sql string, args ...any) error {
	rows, err := w.tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return err
	}
	for _, ins := range inserted {
		if ins {
			c.Created++
		} else {
			c.Updated++
		}
	}
	c.Unchanged = total - c.Created - c.Updated
	return nil
}

// Upserts update only rows that differ (the WHERE of DO UPDATE), so a
// re-import leaves updated_at alone. xmax = 0 marks a row just inserted.
// Keys match whatever their case, and keep the spelling they were created
// with.

// upsertHouseholds creates the roster's new households; the others have
// nothing the file could change.
func (w *rosterWriter) upsertHouseholds(ctx context.Context) error {
	return w.counted(ctx, &w.counts.Households, len(w.r.Households), `
		INSERT INTO households (id, external_id, link_nonce, created_at, updated_at)
		SELECT gen_random_uuid(), key, nonce, $1, $1 FROM roster_households
		ON CONFLICT ((lower(external_id))) DO NOTHING
		RETURNING true`, w.now)
}

func (w *rosterWriter) upsertStudents(ctx context.Context) error {
	return w.counted(ctx, &w.counts.Students, len(w.r.Students), `
		INSERT INTO students (id, external_id, name, class_name, created_at, updated_at)
		SELECT gen_random_uuid(), external_id, name, class_name, $1, $1 FROM roster_students
		ON CONFLICT ((lower(external_id))) DO UPDATE
		SET name = EXCLUDED.name, class_name = EXCLUDED.class_name, updated_at = $1
		WHERE (students.name, students.class_name) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.class_name)
		RETURNING xmax = 0`, w.now)
}

// upsertGuardians makes the roster's guardians of its households the only ones.
func (w *rosterWriter) upsertGuardians(ctx context.Context) error {
	tag, err := w.tx.Exec(ctx, `
		DELETE FROM guardians g USING households h, roster_households rh
		WHERE g.household_id = h.id AND lower(h.external_id) = lower(rh.key)
		AND NOT EXISTS (SELECT 1 FROM roster_guardians rg
			WHERE lower(rg.household_key) = lower(h.external_id) AND lower(rg.name) = lower(g.name))`)
	if err != nil {
		return err
	}
	w.counts.Guardians.Removed = int(tag.RowsAffected())
	total := 0
	for _, h := range w.r.Households {
		total += len(h.Guardians)
	}
	return w.counted(ctx, &w.counts.Guardians, total, `
		INSERT INTO guardians (id, household_id, name, email, phone, position)
		SELECT gen_random_uuid(), h.id, rg.name, rg.email, rg.phone, rg.position
		FROM roster_guardians rg JOIN households h ON lower(h.external_id) = lower(rg.household_key)
		ON CONFLICT (household_id, (lower(name))) DO UPDATE
		SET name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone, position = EXCLUDED.position
		WHERE (guardians.name, guardians.email, guardians.phone, guardians.position)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email, EXCLUDED.phone, EXCLUDED.position)
		RETURNING xmax = 0`)
}

func (w *rosterWriter) linkHouseholds(ctx context.Context) error {
	tag, err := w.tx.Exec(ctx, `
		INSERT INTO student_households (student_id, household_id)
		SELECT s.id, h.id FROM roster_links l
		JOIN students s ON lower(s.external_id) = lower(l.student_key)
		JOIN households h ON lower(h.external_id) = lower(l.household_key)
		ON CONFLICT DO NOTHING`)
	w.counts.HouseholdLinks.Created = int(tag.RowsAffected())
	return err
}

// linkTeachers makes the roster's teachers of its students the only ones.
func (w *rosterWriter) linkTeachers(ctx context.Context) error {
	const wanted = `SELECT s.id AS student_id, u.id AS teacher_id, rt.subject
		FROM roster_teachers rt
		JOIN students s ON lower(s.external_id) = lower(rt.student_key)
		JOIN users u ON lower(u.email) = lower(rt.email)`
	tag, err := w.tx.Exec(ctx, `
		DELETE FROM student_teachers st USING students s, roster_students rs
		WHERE st.student_id = s.id AND lower(s.external_id) = lower(rs.external_id)
		AND (st.student_id, st.teacher_id, st.subject) NOT IN (`+wanted+`)`)
	if err != nil {
		return err
	}
	w.counts.TeacherLinks.Removed = int(tag.RowsAffected())
	tag, err = w.tx.Exec(ctx, `INSERT INTO student_teachers (student_id, teacher_id, subject) `+wanted+` ON CONFLICT DO NOTHING`)
	w.counts.TeacherLinks.Created = int(tag.RowsAffected())
	return err
}

// pruneStudentsHouseholds unlinks the roster's students from households
// the roster does not give them: the file says where each child lives.
func (w *rosterWriter) pruneStudentsHouseholds(ctx context.Context) error {
	tag, err := w.tx.Exec(ctx, `
		DELETE FROM student_households sh USING students s, roster_students rs
		WHERE sh.student_id = s.id AND lower(s.external_id) = lower(rs.external_id)
		AND NOT EXISTS (SELECT 1 FROM roster_links l JOIN households h ON lower(h.external_id) = lower(l.household_key)
			WHERE lower(l.student_key) = lower(s.external_id) AND h.id = sh.household_id)`)
	w.counts.HouseholdLinks.Removed = int(tag.RowsAffected())
	return err
}

// pruneHouseholdStudents unlinks from one household the children the hand
// form no longer lists there.
func (w *rosterWriter) pruneHouseholdStudents(ctx context.Context, householdID uuid.UUID) error {
	tag, err := w.tx.Exec(ctx, `
		DELETE FROM student_households sh USING students s
		WHERE sh.household_id = $1 AND sh.student_id = s.id
		AND NOT EXISTS (SELECT 1 FROM roster_students rs WHERE lower(rs.external_id) = lower(s.external_id))`, householdID)
	w.counts.HouseholdLinks.Removed = int(tag.RowsAffected())
	return err
}

// FamilyList is one page of the households matching a search.
type FamilyList struct {
	Families []FamilySummary
	Total    int // households matching, on every page
}

// FamilySummary is a household with its guardians and children.
type FamilySummary struct {
	Household Household
	Guardians []Guardian
	Students  []Student
}

// RosterTotals counts every household, guardian and student.
type RosterTotals struct {
	Households int `db:"households"`
	Guardians  int `db:"guardians"`
	Students   int `db:"students"`
}

// Families lists the households whose key, guardians' names, or children's
// names, ids or classes contain search (any case), by key.
func (s *Store) Families(ctx context.Context, search string, limit, offset int) (FamilyList, error) {
	type match struct {
		Household
		Total int `db:"total"`
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.TrimSpace(search)) + "%"
	ms, err := all[match](s.pool.Query(ctx, `
		SELECT h.id, h.external_id, h.link_nonce, h.created_at, h.updated_at, count(*) OVER () AS total
		FROM households h
		WHERE h.external_id ILIKE $1
		OR EXISTS (SELECT 1 FROM guardians g WHERE g.household_id = h.id AND g.name ILIKE $1)
		OR EXISTS (SELECT 1 FROM student_households sh JOIN students st ON st.id = sh.student_id
			WHERE sh.household_id = h.id AND (st.name ILIKE $1 OR st.class_name ILIKE $1 OR st.external_id ILIKE $1))
		ORDER BY lower(h.external_id) LIMIT $2 OFFSET $3`, pattern, limit, offset))
	if err != nil {
		return FamilyList{}, fmt.Errorf("store: families: %w", err)
	}
	var list FamilyList
	ids := make([]uuid.UUID, len(ms))
	for i, m := range ms {
		ids[i], list.Total = m.ID, m.Total
		list.Families = append(list.Families, FamilySummary{Household: m.Household})
	}
	if err := s.fillFamilies(ctx, ids, list.Families); err != nil {
		return FamilyList{}, fmt.Errorf("store: families: %w", err)
	}
	return list, nil
}

// fillFamilies adds their guardians and children to the households fs,
// whose ids are ids.
func (s *Store) fillFamilies(ctx context.Context, ids []uuid.UUID, fs []FamilySummary) error {
	at := map[uuid.UUID]*FamilySummary{}
	for i := range fs {
		at[fs[i].Household.ID] = &fs[i]
	}
	gs, err := all[Guardian](s.pool.Query(ctx, `
		SELECT id, household_id, name, email, phone, position FROM guardians
		WHERE household_id = ANY($1) ORDER BY position, name`, ids))
	if err != nil {
		return err
	}
	for _, g := range gs {
		at[g.HouseholdID].Guardians = append(at[g.HouseholdID].Guardians, g)
	}
	type child struct {
		Student
		HouseholdID uuid.UUID `db:"household_id"`
	}
	cs, err := all[child](s.pool.Query(ctx, `
		SELECT s.id, s.external_id, s.name, s.class_name, s.created_at, s.updated_at, sh.household_id
		FROM students s JOIN student_households sh ON sh.student_id = s.id
		WHERE sh.household_id = ANY($1) ORDER BY s.name, s.id`, ids))
	if err != nil {
		return err
	}
	for _, c := range cs {
		at[c.HouseholdID].Students = append(at[c.HouseholdID].Students, c.Student)
	}
	return nil
}

// CountRoster counts every household, guardian and student.
func (s *Store) CountRoster(ctx context.Context) (RosterTotals, error) {
	t, err := one[RosterTotals](s.pool.Query(ctx, `SELECT
		(SELECT count(*) FROM households) AS households,
		(SELECT count(*) FROM guardians) AS guardians,
		(SELECT count(*) FROM students) AS students`))
	if err != nil {
		return RosterTotals{}, fmt.Errorf("store: count roster: %w", err)
	}
	return t, nil
}
