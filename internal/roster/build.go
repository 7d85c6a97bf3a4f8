package roster

import (
	"fmt"
	"strings"

	"classmeet/internal/store"
)

// Build puts rows that passed Check together into families: a student's
// rows must agree on the student, a guardian's rows on the guardian, and a
// household has at most MaxGuardians. ref names a row's line in a message
// ("line 3"). Every disagreement is returned, as store.RowErrors of the
// later row, with what could be put together (for further checks).
func Build(rows []Row, ref func(line int) string) (store.Roster, error) {
	b := builder{ref: ref, students: map[string]int{}, households: map[string]int{}, subjects: map[subjectKey]int{}}
	for _, r := range rows {
		b.add(r)
	}
	if len(b.errs) > 0 {
		return b.roster, b.errs
	}
	return b.roster, nil
}

type builder struct {
	ref        func(int) string
	roster     store.Roster
	students   map[string]int     // lower-case student id → index in roster.Students
	households map[string]int     // lower-case key → index in roster.Households
	guardians  []guardianSeen     // parallel to roster.Households' guardians, by index
	subjects   map[subjectKey]int // where a student's teacher was given a subject
	errs       store.RowErrors
}

// guardianSeen is where a household's guardians were first named.
type guardianSeen struct{ lines []int }

type subjectKey struct {
	student int
	email   string
}

func (b *builder) fail(line int, format string, args ...any) {
	b.errs = append(b.errs, store.RowError{Line: line, Reason: fmt.Sprintf(format, args...)})
}

// add merges one row; a row that disagrees with an earlier one adds nothing.
func (b *builder) add(r Row) {
	errs := len(b.errs)
	s := b.student(r)
	h := b.household(r)
	if len(b.errs) > errs {
		return
	}
	b.guardian(r, h)
	if len(b.errs) > errs {
		return
	}
	b.teachers(r, s)
	if len(b.errs) > errs {
		return
	}
	if !containsFold(b.roster.Students[s].Households, r.Household) {
		b.roster.Students[s].Households = append(b.roster.Students[s].Households, r.Household)
	}
}

func (b *builder) student(r Row) int {
	key := strings.ToLower(r.StudentID)
	i, ok := b.students[key]
	if !ok {
		b.students[key] = len(b.roster.Students)
		b.roster.Students = append(b.roster.Students, store.RosterStudent{
			ExternalID: r.StudentID, Name: r.StudentName, ClassName: r.Class, Line: r.Line,
		})
		return len(b.roster.Students) - 1
	}
	s := b.roster.Students[i]
	if s.Name != r.StudentName {
		b.fail(r.Line, "student_name differs from %s, which has the same student_id", b.ref(s.Line))
	}
	if s.ClassName != r.Class {
		b.fail(r.Line, "class differs from %s, which has the same student_id", b.ref(s.Line))
	}
	return i
}

func (b *builder) household(r Row) int {
	key := strings.ToLower(r.Household)
	if i, ok := b.households[key]; ok {
		return i
	}
	b.households[key] = len(b.roster.Households)
	b.roster.Households = append(b.roster.Households, store.RosterHousehold{Key: r.Household, Line: r.Line})
	b.guardians = append(b.guardians, guardianSeen{})
	return len(b.roster.Households) - 1
}

// guardian adds the row's guardian to household h, or checks that it
// agrees with the guardian of that name already there.
func (b *builder) guardian(r Row, h int) {
	hh := &b.roster.Households[h]
	for i := range hh.Guardians {
		g := &hh.Guardians[i]
		if !strings.EqualFold(g.Name, r.GuardianName) {
			continue
		}
		first := b.ref(b.guardians[h].lines[i])
		switch {
		case !strings.EqualFold(g.Email, r.GuardianEmail):
			b.fail(r.Line, "guardian_email differs from %s, which has the same guardian in the same household", first)
		case g.Phone != "" && r.GuardianPhone != "" && g.Phone != r.GuardianPhone:
			b.fail(r.Line, "guardian_phone differs from %s, which has the same guardian in the same household", first)
		case g.Phone == "":
			g.Phone = r.GuardianPhone
		}
		return
	}
	if len(hh.Guardians) == MaxGuardians {
		b.fail(r.Line, "household %q would have more than %d guardians (see %s)", hh.Key, MaxGuardians, b.ref(hh.Line))
		return
	}
	hh.Guardians = append(hh.Guardians, store.RosterGuardian{Name: r.GuardianName, Email: r.GuardianEmail, Phone: r.GuardianPhone})
	b.guardians[h].lines = append(b.guardians[h].lines, r.Line)
}

// teachers adds the row's teachers to student s: the rows of a student may
// each name some of them, but not one teacher with two subjects.
func (b *builder) teachers(r Row, s int) {
	st := &b.roster.Students[s]
	for _, t := range r.Teachers {
		i := teacherIndex(st.Teachers, t.Email)
		key := subjectKey{s, t.Email}
		switch {
		case i < 0:
			st.Teachers = append(st.Teachers, t)
		case st.Teachers[i].Subject == "":
			st.Teachers[i].Subject = t.Subject
		case t.Subject != "" && t.Subject != st.Teachers[i].Subject:
			b.fail(r.Line, "teachers: %s teaches this student %q on %s, %q here", t.Email, st.Teachers[i].Subject, b.ref(b.subjects[key]), t.Subject)
			continue
		}
		if _, ok := b.subjects[key]; !ok && t.Subject != "" {
			b.subjects[key] = r.Line
		}
	}
}

func teacherIndex(ts []store.RosterTeacher, email string) int {
	for i, t := range ts {
		if t.Email == email {
			return i
		}
	}
	return -1
}

func containsFold(keys []string, key string) bool {
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}
