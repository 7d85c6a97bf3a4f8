package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"classmeet/internal/roster"
	"classmeet/internal/store"
	"classmeet/templates"
)

// Limits of the hand form of a family.
const (
	maxFormChildren = 12
	maxFormTeachers = 30 // per child
)

// familyForm fills the hand form from a household as stored: its entries,
// plus an empty one for another child and two for other teachers.
func familyForm(f store.Family, staff []store.User) (templates.Form, []int) {
	form := templates.Form{Values: map[string]string{"household": f.Household.ExternalID}, Errors: map[string]string{}}
	for i, g := range f.Guardians[:min(len(f.Guardians), roster.MaxGuardians)] {
		form.Values[templates.GuardianField(i+1, "name")] = g.Name
		form.Values[templates.GuardianField(i+1, "email")] = g.Email
		form.Values[templates.GuardianField(i+1, "phone")] = g.Phone
	}
	emails := map[uuid.UUID]string{}
	for _, u := range staff {
		emails[u.ID] = strings.ToLower(u.Email)
	}
	slots := make([]int, 0, len(f.Students)+1)
	for i, s := range f.Students[:min(len(f.Students), maxFormChildren-1)] {
		form.Values[templates.ChildField(i, "student_id")] = s.ExternalID
		form.Values[templates.ChildField(i, "student_name")] = s.Name
		form.Values[templates.ChildField(i, "class")] = s.ClassName
		j := 0
		for _, t := range f.Teachers {
			if t.StudentID == s.ID && j < maxFormTeachers-2 {
				form.Values[templates.TeacherField(i, j, "teacher")] = emails[t.TeacherID]
				form.Values[templates.TeacherField(i, j, "subject")] = t.Subject
				j++
			}
		}
		slots = append(slots, j+2)
	}
	return form, append(slots, 3)
}

// readFamilyForm reads the posted hand form: its entries, and how many
// teacher entries each child entry had.
func readFamilyForm(w http.ResponseWriter, r *http.Request) (templates.Form, []int, error) {
	f, err := readForm(w, r, "household")
	if err != nil {
		return f, nil, err
	}
	get := func(name string) { f.Values[name] = r.PostForm.Get(name) }
	for g := 1; g <= roster.MaxGuardians; g++ {
		for _, n := range []string{"name", "email", "phone"} {
			get(templates.GuardianField(g, n))
		}
	}
	slots := make([]int, clampedInt(r.PostForm.Get("children"), 1, maxFormChildren))
	for i := range slots {
		for _, n := range []string{"student_id", "student_name", "class"} {
			get(templates.ChildField(i, n))
		}
		slots[i] = clampedInt(r.PostForm.Get(templates.ChildField(i, "teachers")), 0, maxFormTeachers)
		for j := range slots[i] {
			get(templates.TeacherField(i, j, "teacher"))
			get(templates.TeacherField(i, j, "subject"))
		}
	}
	return f, slots, nil
}

func clampedInt(s string, lo, hi int) int {
	n, _ := strconv.Atoi(s)
	return min(max(n, lo), hi)
}

// familyRoster checks the hand form with the roster's rules, marking each
// field that breaks one, and puts the household together. Child entries
// left empty are skipped, but the first always counts.
func familyRoster(f templates.Form, slots []int) (store.Roster, []string) {
	var rows []roster.Row
	for i := range slots {
		child := childEntry(f, i, slots[i])
		if i > 0 && child.StudentID == "" && child.StudentName == "" && child.Class == "" && len(child.Teachers) == 0 {
			continue
		}
		for g := 1; g <= roster.MaxGuardians; g++ {
			row := child
			row.Teachers = append([]store.RosterTeacher(nil), child.Teachers...)
			row.GuardianName = f.Value(templates.GuardianField(g, "name"))
			row.GuardianEmail = f.Value(templates.GuardianField(g, "email"))
			row.GuardianPhone = f.Value(templates.GuardianField(g, "phone"))
			if g > 1 && strings.TrimSpace(row.GuardianName+row.GuardianEmail+row.GuardianPhone) == "" {
				continue
			}
			for col, reason := range row.Check() {
				f.Errors[formField(col, i, g)] = reason
			}
			rows = append(rows, row)
		}
	}
	if len(f.Errors) > 0 {
		return store.Roster{}, nil
	}
	ros, err := roster.Build(rows, func(line int) string { return "child " + strconv.Itoa(line) })
	return ros, rowProblems(err)
}

// childEntry is child entry i of the form as a row without its guardian;
// Line is the entry's number.
func childEntry(f templates.Form, i, slots int) roster.Row {
	row := roster.Row{
		Line: i + 1, StudentID: f.Value(templates.ChildField(i, "student_id")),
		StudentName: f.Value(templates.ChildField(i, "student_name")), Class: f.Value(templates.ChildField(i, "class")),
		Household: f.Value("household"),
	}
	for j := range slots {
		if email := f.Value(templates.TeacherField(i, j, "teacher")); email != "" {
			row.Teachers = append(row.Teachers, store.RosterTeacher{Email: email, Subject: f.Value(templates.TeacherField(i, j, "subject")), Line: i + 1})
		}
	}
	return row
}

// formField is the hand form's field for a roster column of child entry i
// and guardian entry g.
func formField(col string, i, g int) string {
	switch {
	case col == "household":
		return col
	case strings.HasPrefix(col, "guardian_"):
		return templates.GuardianField(g, strings.TrimPrefix(col, "guardian_"))
	}
	return templates.ChildField(i, col)
}

// rowProblems words the roster's errors for the hand form: its "lines"
// are child entries.
func rowProblems(err error) []string {
	var errs store.RowErrors
	errors.As(err, &errs)
	var ps []string
	for _, e := range errs {
		// A child's problem is found once per guardian: say it once.
		if p := "Child " + strconv.Itoa(e.Line) + ": " + e.Reason; !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}
