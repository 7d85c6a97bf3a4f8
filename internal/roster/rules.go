package roster

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

// Limits on a row's fields, in characters.
const (
	MaxKey     = 64 // a student id or household key
	MaxClass   = 50
	MaxSubject = 100
	MaxPhone   = 30
	// MaxGuardians is how many guardians a household may have.
	MaxGuardians = 2
)

// Problems maps a column (student_id, guardian_email...) to what is wrong
// with its value; it reads after the column's name.
type Problems map[string]string

// Row is one student and one of their guardians, as a line of the file or
// an entry of the hand form.
type Row struct {
	Line          int
	StudentID     string
	StudentName   string
	Class         string
	GuardianName  string
	GuardianEmail string
	GuardianPhone string
	Household     string
	Teachers      []store.RosterTeacher
}

// Check tidies a row's fields and says what is wrong with them. It is the
// one set of rules for the file and the hand form.
func (r *Row) Check() Problems {
	p := Problems{}
	r.StudentID = checkKey(p, "student_id", r.StudentID, MaxKey)
	r.StudentName = checkName(p, "student_name", r.StudentName)
	r.Class = checkKey(p, "class", r.Class, MaxClass)
	r.Household = checkKey(p, "household", r.Household, MaxKey)
	r.GuardianName = checkName(p, "guardian_name", r.GuardianName)
	r.GuardianEmail = checkEmail(p, "guardian_email", r.GuardianEmail)
	r.GuardianPhone = checkPhone(p, "guardian_phone", r.GuardianPhone)
	for i := range r.Teachers {
		t := &r.Teachers[i]
		t.Email = strings.ToLower(checkEmail(p, "teachers", t.Email))
		t.Subject = checkText(p, "teachers", t.Subject, MaxSubject, false)
	}
	return p
}

func checkName(p Problems, col, v string) string {
	name, err := textrule.Name(v)
	if err != nil {
		p[col] = err.Error()
	}
	return name
}

func checkEmail(p Problems, col, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		p[col] = textrule.ErrNameMissing.Error()
	} else if err := schedule.CheckEmail(v); err != nil {
		p[col] = "has " + strconv.Quote(v) + ", which " + err.Error()
	}
	return v
}

// checkKey checks a required identifier or class: one line of plain text.
func checkKey(p Problems, col, v string, max int) string {
	return checkText(p, col, v, max, true)
}

func checkText(p Problems, col, v string, max int, required bool) string {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) || textrule.HasBidiControl(v) {
		p[col] = textrule.ErrNameNotPlain.Error()
		return v
	}
	v = strings.Join(strings.Fields(v), " ")
	switch {
	case v == "" && required:
		p[col] = textrule.ErrNameMissing.Error()
	case utf8.RuneCountInString(v) > max:
		p[col] = "must be at most " + strconv.Itoa(max) + " characters"
	}
	return v
}

// checkPhone accepts an optional phone number of digits and spaces, with a
// leading + for the country code.
func checkPhone(p Problems, col, v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return ""
	}
	digits, ok := 0, len(v) <= MaxPhone
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ', r == '+' && i == 0:
		default:
			ok = false
		}
	}
	if !ok || digits < 3 {
		p[col] = "must be a phone number of digits and spaces, with + before a country code, at most " + strconv.Itoa(MaxPhone) + " characters"
	}
	return v
}

// parseTeachers reads the teachers column: emails separated by ";", each
// with an optional ":Subject".
func parseTeachers(v string, line int) []store.RosterTeacher {
	var ts []store.RosterTeacher
	for item := range strings.SplitSeq(v, ";") {
		email, subject, _ := strings.Cut(strings.TrimSpace(item), ":")
		if email == "" && subject == "" {
			continue
		}
		ts = append(ts, store.RosterTeacher{Email: email, Subject: subject, Line: line})
	}
	return ts
}
