package roster_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"classmeet/internal/roster"
	"classmeet/internal/store"
)

const header = "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers\n"

func TestParseReadsEveryDialect(t *testing.T) {
	const comma = header +
		`S1,Ada Lovelace,7B,Anne Lovelace,anne@home.example,+44 20 7946 0000,H1,"novak@school.example:Maths;lee@school.example"` + "\n" +
		`S1,Ada Lovelace,7B,Bob Lovelace,bob@home.example,,H2,novak@school.example:Maths` + "\n" +
		`s1,Ada Lovelace,7B,"Smith, Carol",carol@home.example,,h2,` + "\n"
	const semicolon = "student_id;student_name;class;guardian_name;guardian_email;guardian_phone;household;teachers\n" +
		`S1;Ada Lovelace;7B;Anne Lovelace;anne@home.example;+44 20 7946 0000;H1;"novak@school.example:Maths;lee@school.example"` + "\n" +
		`S1;"Ada Lovelace";7B;Bob Lovelace;bob@home.example;;H2;novak@school.example:Maths` + "\n" +
		`s1;Ada Lovelace;7B;"Smith; ""Carol""";carol@home.example;;h2;` + "\n"
	for name, file := range map[string]string{
		"comma LF":          comma,
		"comma CRLF":        strings.ReplaceAll(comma, "\n", "\r\n"),
		"BOM":               "\uFEFF" + comma,
		"semicolon":         semicolon,
		"semicolon BOM":     "\uFEFF" + strings.ReplaceAll(semicolon, "\n", "\r\n"),
		"columns reordered": reorder(comma),
		"header case":       strings.Replace(comma, "student_id,student_name", " Student_ID ,STUDENT_NAME", 1),
		"no final newline":  strings.TrimSuffix(comma, "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := roster.Parse(strings.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Students) != 1 || len(r.Households) != 2 {
				t.Fatalf("%d students, %d households; want 1 and 2", len(r.Students), len(r.Households))
			}
			s := r.Students[0]
			if s.ExternalID != "S1" || s.Name != "Ada Lovelace" || s.ClassName != "7B" || len(s.Households) != 2 {
				t.Errorf("student = %+v", s)
			}
			if len(s.Teachers) != 2 || s.Teachers[0] != (store.RosterTeacher{Email: "novak@school.example", Subject: "Maths", Line: 2}) || s.Teachers[1].Email != "lee@school.example" {
				t.Errorf("teachers = %+v", s.Teachers)
			}
			h1, h2 := r.Households[0], r.Households[1]
			if h1.Key != "H1" || len(h1.Guardians) != 1 || h1.Guardians[0].Phone != "+44 20 7946 0000" {
				t.Errorf("H1 = %+v", h1)
			}
			if h2.Key != "H2" || len(h2.Guardians) != 2 || !strings.HasPrefix(h2.Guardians[1].Name, "Smith") {
				t.Errorf("H2 = %+v", h2)
			}
		})
	}
}

// reorder moves the teachers column first.
func reorder(file string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(file, "\n") {
		if line == "" {
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		i := strings.LastIndex(body, ",")
		fmt.Fprintf(&b, "%s,%s\n", body[i+1:], body[:i])
	}
	return b.String()
}

func TestParseReportsEveryBadLine(t *testing.T) {
	good := "S1,Ada Lovelace,7B,Anne Lovelace,anne@home.example,,H1,novak@school.example\n"
	for _, tc := range []struct {
		name, file string
		want       []string // "line N: reason start"
	}{
		{"missing student id", header + good + ",Ben,7B,Anne,a@home.example,,H9,\n", []string{"line 3: student_id is required"}},
		{"name with control character", header + "S2,Ben\u202eX,7B,Anne,a@home.example,,H9,\n", []string{"line 2: student_name must be one line"}},
		{"bad email", header + "S2,Ben,7B,Anne,not-an-email,,H9,\n", []string{`line 2: guardian_email has "not-an-email"`}},
		{"missing email", header + "S2,Ben,7B,Anne,,,H9,\n", []string{"line 2: guardian_email is required"}},
		{"bad phone", header + "S2,Ben,7B,Anne,a@home.example,call me,H9,\n", []string{"line 2: guardian_phone must be a phone number"}},
		{"plus inside phone", header + "S2,Ben,7B,Anne,a@home.example,12+34,H9,\n", []string{"line 2: guardian_phone must be a phone number"}},
		{"missing household", header + "S2,Ben,7B,Anne,a@home.example,,,\n", []string{"line 2: household is required"}},
		{"missing class", header + "S2,Ben,,Anne,a@home.example,,H9,\n", []string{"line 2: class is required"}},
		{"bad teacher email", header + "S2,Ben,7B,Anne,a@home.example,,H9,nobody:Maths\n", []string{`line 2: teachers has "nobody"`}},
		{"long subject", header + "S2,Ben,7B,Anne,a@home.example,,H9,t@school.example:" + strings.Repeat("x", 101) + "\n", []string{"line 2: teachers must be at most 100"}},
		{"two names for one student", header + good + "s1,Ada King,7B,Bob,b@home.example,,H1,\n", []string{"line 3: student_name differs from line 2"}},
		{"two classes for one student", header + good + "S1,Ada Lovelace,8C,Bob,b@home.example,,H1,\n", []string{"line 3: class differs from line 2"}},
		{"two emails for one guardian", header + good + "S2,Ben,7B,anne lovelace,other@home.example,,h1,\n", []string{"line 3: guardian_email differs from line 2"}},
		{"two phones for one guardian", header + "S1,Ada,7B,Anne,a@home.example,0123,H1,\nS2,Ben,7B,Anne,a@home.example,0456,H1,\n", []string{"line 3: guardian_phone differs from line 2"}},
		{"third guardian", header + good + "S1,Ada Lovelace,7B,Bob,b@home.example,,H1,\nS1,Ada Lovelace,7B,Cy,c@home.example,,H1,\n", []string{`line 4: household "H1" would have more than 2 guardians`}},
		{"one teacher, two subjects", header + good + "S1,Ada Lovelace,7B,Bob,b@home.example,,H2,novak@school.example:Art\nS1,Ada Lovelace,7B,Cy,c@home.example,,H2,novak@school.example:Maths\n", []string{`line 4: teachers: novak@school.example teaches this student "Art" on line 3, "Maths" here`}},
		{"short row", header + good + "S2,Ben,7B\n", []string{"line 3: has 3 fields, but the header has 8"}},
		{"bare quote", header + good + "S2,Be\"n,7B,Anne,a@home.example,,H9,\n" + good, []string{"line 3: cannot be read"}},
		{"unknown column", strings.Replace(header, "teachers", "teachers,shoe_size", 1) + good, []string{`line 1: unknown column "shoe_size"`}},
		{"missing column", strings.Replace(header, "household,", "", 1) + good, []string{`line 1: column "household" is missing`}},
		{"column twice", strings.Replace(header, "teachers", "teachers,class", 1) + good, []string{`line 1: column "class" appears twice`}},
		{"not UTF-8", header + good + "S2,B\xe9n,7B,Anne,a@home.example,,H9,\n", []string{"line 3: the file is not UTF-8"}},
		{"quoted newline keeps physical lines", header + "S2,\"Ben\nJones\",7B,Anne,a@home.example,,H9,\nS3,Cy,7B,Anne,,,H9,\n", []string{"line 2: student_name must be one line", "line 4: guardian_email is required"}},
		{"every problem of a line", header + ",,7B,Anne,x,,H9,\n", []string{"line 2: student_id is required", "line 2: student_name is required", "line 2: guardian_email has"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := roster.Parse(strings.NewReader(tc.file))
			var errs store.RowErrors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want row errors", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("errors = %q, want %q", errs.Error(), tc.want)
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want %q…", i, errs[i].Error(), want)
				}
			}
		})
	}
}

func TestParseRefusesWholeFiles(t *testing.T) {
	big := header + strings.Repeat("S1,Ada,7B,Anne,a@home.example,,H1,"+strings.Repeat(" ", 1000)+"\n", roster.MaxBytes/1000)
	many := header + strings.Repeat("S1,Ada,7B,Anne,a@home.example,,H1,\n", roster.MaxRows+1)
	for name, tc := range map[string]struct {
		file string
		want error
	}{
		"empty":       {"", roster.ErrEmpty},
		"header only": {header, roster.ErrEmpty},
		"too large":   {big, roster.ErrTooLarge},
		"too many":    {many, roster.ErrTooManyRows},
	} {
		if _, err := roster.Parse(strings.NewReader(tc.file)); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	exact := header + strings.Repeat("S1,Ada,7B,Anne,a@home.example,,H1,\n", roster.MaxRows)
	if _, err := roster.Parse(strings.NewReader(exact)); err != nil {
		t.Errorf("%d rows: %v", roster.MaxRows, err)
	}
}
