package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/roster"
	"classmeet/internal/roster/rostertest"
	"classmeet/internal/store"
)

// upload posts a file in a multipart form, as a same-origin browser would.
func (b *browser) upload(path, field, name, content string) page {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		b.e.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (e *env) rosterTotals() store.RosterTotals {
	e.t.Helper()
	t, err := e.store.CountRoster(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// lineWith is the index of the first line holding all of parts.
func lineWith(t *testing.T, lines []string, parts ...string) int {
	t.Helper()
	for i, l := range lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return i
		}
	}
	t.Fatalf("no line holds %q", parts)
	return 0
}

func TestImportShowsEveryBadLineAndImportsNothing(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	teachers := []string{e.user("novak@school.example", store.RoleTeacher).Email, e.user("lee@school.example", store.RoleTeacher).Email}
	b := e.login("admin@school.example")

	lines := strings.Split(rostertest.CSV(2000, teachers), "\n")
	bad := []int{
		lineWith(t, lines, "S00003,", "Guardian 0"),
		lineWith(t, lines, "S01000,", "Guardian 1"),
		lineWith(t, lines, "S01999,", "Guardian 1"),
	}
	lines[bad[0]] = strings.Replace(lines[bad[0]], "@home.example", "@", 1)                            // a bad email
	lines[bad[1]] = strings.Replace(lines[bad[1]], "Student 01000", "Someone Else", 1)                 // a second name for a student
	lines[bad[2]] = strings.Replace(lines[bad[2]], "novak@school.example", "nobody@school.example", 1) // an unknown teacher

	p := b.upload("/admin/families/import", "file", "roster.csv", strings.Join(lines, "\r\n"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.text(tid("import-errors")), "Nothing was imported") {
		t.Fatalf("import with bad rows: %d %q", p.status, p.text(tid("import-errors")))
	}
	var got []string
	p.doc.Find(tid("import-error")).Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("data-line", "")) })
	want := []string{strconv.Itoa(bad[0] + 1), strconv.Itoa(bad[1] + 1), strconv.Itoa(bad[2] + 1)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("errors on lines %v, want %v: %q", got, want, p.text(tid("import-errors")))
	}
	for i, reason := range []string{"guardian_email", "student_name differs", "nobody@school.example is not an enabled staff account"} {
		if li := p.doc.Find(tid("import-error")).Eq(i).Text(); !strings.Contains(li, "line "+want[i]+": ") || !strings.Contains(li, reason) {
			t.Errorf("error %d = %q, want line %s and %q", i, li, want[i], reason)
		}
	}
	if tot := e.rosterTotals(); tot != (store.RosterTotals{}) {
		t.Errorf("a refused import wrote %+v", tot)
	}
}

func TestImportShowsCountsAndTheFamilies(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	e.user("novak@school.example", store.RoleTeacher)
	b := e.login("admin@school.example")
	file := "\uFEFFStudent_ID;Student_Name;Class;Guardian_Name;Guardian_Email;Household;Teachers\r\n" +
		"S1;Ada Lovelace;7B;Anne Lovelace;anne@home.example;H1;novak@school.example:Maths\r\n" +
		"S2;Ben Lovelace;9C;Anne Lovelace;anne@home.example;H1;\r\n" +
		"S3;Cy Jones;7B;Dee Jones;dee@home.example;H2;novak@school.example\r\n"

	for i, want := range []string{"2 new, 0 updated, 0 unchanged", "0 new, 0 updated, 2 unchanged"} {
		p := b.upload("/admin/families/import", "file", "roster.csv", file)
		if p.status != http.StatusOK || p.text(tid("count-households")) != "Households: "+want {
			t.Fatalf("import %d: %d households %q, errors %q", i+1, p.status, p.text(tid("count-households")), p.text(tid("import-errors")))
		}
		if got := p.doc.Find(tid("family-row")).Length(); got != 2 {
			t.Errorf("import %d: %d households listed, want 2", i+1, got)
		}
	}
	if tot := e.rosterTotals(); tot != (store.RosterTotals{Households: 2, Guardians: 2, Students: 3}) {
		t.Errorf("totals %+v", tot)
	}
	p := b.get("/admin/families?q=9c")
	if rows := p.doc.Find(tid("family-row")); rows.Length() != 1 || !strings.Contains(rows.Text(), "Ben Lovelace") {
		t.Errorf("search by class: %q", rows.Text())
	}
	if p := b.get("/admin/families?q=jones"); p.doc.Find(tid("family-row")).Length() != 1 || !strings.Contains(p.text(tid("family-row")), "H2") {
		t.Errorf("search by name: %q", p.text(tid("families")))
	}
	if p := b.upload("/admin/families/import", "file", "empty.csv", ""); p.status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.text(tid("import-error")), "no rows") {
		t.Errorf("empty file: %d %q", p.status, p.text(tid("import-errors")))
	}
}

func TestFamiliesArePaginated(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	b := e.login("admin@school.example")
	if p := b.upload("/admin/families/import", "file", "r.csv", rostertest.CSV(120, nil)); p.status != http.StatusOK {
		t.Fatalf("import: %d %q", p.status, p.text(tid("import-errors")))
	}
	seen := map[string]bool{}
	for path := "/admin/families"; path != ""; {
		p := b.get(path)
		p.doc.Find(tid("family-row") + " a").Each(func(_ int, s *goquery.Selection) { seen[s.Text()] = true })
		path = p.attr(tid("next-page"), "href")
	}
	if len(seen) != 72 { // 60 shared households and 12 split ones
		t.Errorf("the pages list %d households, want 72", len(seen))
	}
}

// familyValues is a valid hand form of one household with one child.
func familyValues(key string) url.Values {
	return url.Values{
		"household": {key}, "children": {"2"},
		"guardian1_name": {"Anne Lovelace"}, "guardian1_email": {"anne@home.example"}, "guardian1_phone": {"+44 20 7946 0000"},
		"guardian2_name": {"Bob Lovelace"}, "guardian2_email": {"bob@home.example"},
		"child0_student_id": {"S1"}, "child0_student_name": {"Ada Lovelace"}, "child0_class": {"7B"},
		"child0_teachers": {"2"}, "child0_teacher0": {"novak@school.example"}, "child0_subject0": {"Maths"},
		"child1_teachers": {"2"},
	}
}

func TestFamilyByHand(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	novak := e.user("novak@school.example", store.RoleTeacher)
	b := e.login("admin@school.example")
	if p := b.get("/admin/families/new"); p.status != http.StatusOK || p.doc.Find(`select[name="child0_teacher0"] option[value="novak@school.example"]`).Length() != 1 {
		t.Fatalf("new family form: %d", p.status)
	}

	bad := familyValues("H1")
	bad.Set("guardian2_email", "bob-at-home")
	bad.Set("child0_student_name", "")
	bad.Set("child1_class", "8A") // a second child half typed
	p := b.post("/admin/families/new", bad)
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", p.status)
	}
	for _, field := range []string{"guardian2_email", "child0_student_name", "child1_student_id", "child1_student_name"} {
		if p.text("#f-"+field+"-error") == "" {
			t.Errorf("no error at %s", field)
		}
	}
	if p.attr("#f-guardian1_name", "value") != "Anne Lovelace" {
		t.Error("the form does not keep what was typed")
	}
	if tot := e.rosterTotals(); tot != (store.RosterTotals{}) {
		t.Fatalf("a refused form wrote %+v", tot)
	}

	p = b.post("/admin/families/new", familyValues("H1"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %q %q", p.status, p.text(tid("form-error")), p.text(tid("family-problems")))
	}
	path := strings.TrimSuffix(p.header.Get("Location"), "?saved=1")
	id := uuid.MustParse(strings.TrimPrefix(path, "/admin/families/"))
	f, err := e.store.Family(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if f.Household.ExternalID != "H1" || len(f.Guardians) != 2 || f.Guardians[1].Name != "Bob Lovelace" || len(f.Students) != 1 ||
		len(f.Teachers) != 1 || f.Teachers[0].TeacherID != novak.ID || f.Teachers[0].Subject != "Maths" {
		t.Fatalf("saved family = %+v", f)
	}
	if p := b.post("/admin/families/new", familyValues("h1")); p.status != http.StatusUnprocessableEntity || p.text("#f-household-error") == "" {
		t.Errorf("a second household with the same key: %d", p.status)
	}

	twice := familyValues("H3")
	twice.Set("child1_student_id", "s1")
	twice.Set("child1_student_name", "Someone Else")
	twice.Set("child1_class", "7B")
	p = b.post("/admin/families/new", twice)
	if items := p.doc.Find(tid("family-problems") + " li"); p.status != http.StatusUnprocessableEntity || items.Length() != 1 ||
		!strings.Contains(items.Text(), "Child 2: student_name differs from child 1") {
		t.Errorf("one student id for two children: %d %q", p.status, items.Text())
	}

	// Fixing it: Ada changes class, Bob leaves, a brother arrives.
	p = b.get(path)
	if p.attr("#f-child0_student_name", "value") != "Ada Lovelace" || p.attr(`select[name="child0_teacher0"] option[selected]`, "value") != "novak@school.example" {
		t.Fatalf("the household's form is not filled in")
	}
	fix := familyValues("H1")
	fix.Set("child0_class", "8B")
	fix.Del("guardian2_name")
	fix.Del("guardian2_email")
	fix.Set("child1_student_id", "S2")
	fix.Set("child1_student_name", "Ben Lovelace")
	fix.Set("child1_class", "5A")
	if p := b.post(path, fix); p.status != http.StatusSeeOther {
		t.Fatalf("fix: %d %q", p.status, p.text(tid("form-error")))
	}
	f, _ = e.store.Family(t.Context(), id)
	if len(f.Guardians) != 1 || len(f.Students) != 2 || f.Students[0].ClassName != "8B" || f.Students[1].Name != "Ben Lovelace" {
		t.Errorf("fixed family = %+v", f)
	}
}

func TestRenewingTheBookingLinkRevokesTheOldOne(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	e.user("novak@school.example", store.RoleTeacher)
	b := e.login("admin@school.example")
	p := b.post("/admin/families/new", familyValues("H1"))
	path := strings.TrimSuffix(p.header.Get("Location"), "?saved=1")
	id := uuid.MustParse(strings.TrimPrefix(path, "/admin/families/"))
	old := b.get(path).attr(tid("booking-link"), "value")
	if !strings.HasPrefix(old, e.srv.URL+"/b/") {
		t.Fatalf("booking link %q", old)
	}
	if p := b.post(path+"/renew-link", nil); p.status != http.StatusSeeOther {
		t.Fatalf("renew: %d", p.status)
	}
	fresh := b.get(path).attr(tid("booking-link"), "value")
	h, err := e.store.Household(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	links := auth.NewBookingLinks(e.cfg.Secret)
	oldToken, freshToken := strings.TrimPrefix(old, e.srv.URL+"/b/"), strings.TrimPrefix(fresh, e.srv.URL+"/b/")
	if fresh == old || links.Matches(oldToken, id, h.LinkNonce) || !links.Matches(freshToken, id, h.LinkNonce) {
		t.Errorf("after renewing, the old link matches %v and the new one %v", links.Matches(oldToken, id, h.LinkNonce), links.Matches(freshToken, id, h.LinkNonce))
	}
}

func TestFamilyPagesAreForAdministratorsOnly(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	e.user("novak@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	path := strings.TrimSuffix(admin.post("/admin/families/new", familyValues("H1")).header.Get("Location"), "?saved=1")
	teacher := e.login("novak@school.example")
	anonymous := e.browser()
	for _, c := range []struct {
		method, path string
	}{
		{"GET", "/admin/families"}, {"GET", "/admin/families/new"}, {"POST", "/admin/families/new"},
		{"GET", path}, {"POST", path}, {"POST", path + "/renew-link"},
	} {
		do := func(b *browser) page {
			if c.method == "GET" {
				return b.get(c.path)
			}
			return b.post(c.path, familyValues("H9"))
		}
		if p := do(teacher); p.status != http.StatusForbidden {
			t.Errorf("teacher %s %s: %d", c.method, c.path, p.status)
		}
		if p := do(anonymous); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
			t.Errorf("anonymous %s %s: %d", c.method, c.path, p.status)
		}
	}
	if p := teacher.upload("/admin/families/import", "file", "r.csv", roster.Columns+"\nS1,Ada,7B,Anne,a@home.example,,H7,\n"); p.status != http.StatusForbidden {
		t.Errorf("teacher import: %d", p.status)
	}
	if tot := e.rosterTotals(); tot.Households != 1 {
		t.Errorf("refused requests wrote households: %+v", tot)
	}
}
