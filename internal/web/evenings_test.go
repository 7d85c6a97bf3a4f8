package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classmeet/internal/auth"
	"classmeet/internal/icstest"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// eveningDay is the date of the tests' evenings: two weeks ahead, in London.
func (e *env) eveningDay() string {
	return e.clock.Now().In(mustZone("Europe/London")).AddDate(0, 0, 14).Format("2006-01-02")
}

// eveningForm is a valid evening form, 16:00-19:00 in London, 10-minute
// appointments, a break for everyone at 17:00-17:20, for the given teachers.
func (e *env) eveningForm(teachers ...store.User) url.Values {
	day := e.eveningDay()
	opens := e.clock.Now().In(mustZone("Europe/London")).AddDate(0, 0, 1).Format("2006-01-02")
	f := url.Values{
		"name": {"Year 7 parents' evening"}, "date": {day}, "start": {"16:00"}, "end": {"19:00"},
		"time_zone": {"Europe/London"}, "slot_minutes": {"10"}, "gap_minutes": {"0"}, "travel_minutes": {"5"},
		"breaks": {"17:00-17:20"}, "booking_opens": {opens + "T08:00"}, "booking_closes": {day + "T12:00"},
		"second_guardian": {"yes"}, "split_policy": {"each_household"}, "reminder_minutes": {"60"},
		"grace_seconds": {"60"}, "recording_policy": {"not_allowed"},
	}
	for _, t := range teachers {
		f.Add("teachers", t.ID.String())
	}
	return f
}

// evening plans an evening through the form and returns its path.
func (b *browser) evening(form url.Values) string {
	b.e.t.Helper()
	p := b.post("/evenings", form)
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("create evening: %d %s %s", p.status, p.text(tid("form-error")), p.doc.Find(".error").Text())
	}
	return p.header.Get("Location")
}

func eveningID(t *testing.T, path string) uuid.UUID {
	t.Helper()
	return uuid.MustParse(strings.TrimPrefix(path, "/evenings/"))
}

// db connects to the test's database, for rows no page writes yet
// (families come from the import) and to check what landed.
func (e *env) db() *pgx.Conn {
	e.t.Helper()
	c, err := pgx.Connect(context.Background(), e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

type guardian struct{ name, email string }

type seededFamily struct {
	household uuid.UUID
	students  []uuid.UUID
}

// seedFamily adds a household with its guardians and one child in class,
// taught by teachers.
func (e *env) seedFamily(db *pgx.Conn, child, class string, guardians []guardian, teachers ...store.User) seededFamily {
	e.t.Helper()
	ctx, now := context.Background(), e.clock.Now()
	f := seededFamily{household: uuid.New(), students: []uuid.UUID{uuid.New()}}
	exec := func(sql string, args ...any) {
		if _, err := db.Exec(ctx, sql, args...); err != nil {
			e.t.Fatal(err)
		}
	}
	exec(`INSERT INTO households (id, external_id, link_nonce, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
		f.household, "H-"+f.household.String(), auth.NewLinkNonce(), now)
	for i, g := range guardians {
		exec(`INSERT INTO guardians (id, household_id, name, email, position) VALUES ($1, $2, $3, $4, $5)`,
			uuid.New(), f.household, g.name, g.email, i)
	}
	exec(`INSERT INTO students (id, external_id, name, class_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		f.students[0], "S-"+f.students[0].String(), child, class, now)
	exec(`INSERT INTO student_households (student_id, household_id) VALUES ($1, $2)`, f.students[0], f.household)
	for _, t := range teachers {
		exec(`INSERT INTO student_teachers (student_id, teacher_id) VALUES ($1, $2)`, f.students[0], t.ID)
	}
	return f
}

// book books a family's child into a slot, as the booking pages will.
func (e *env) book(eveningID uuid.UUID, f seededFamily, slot store.Slot) store.Booking {
	e.t.Helper()
	nb := store.NewBooking{ID: uuid.New(), EveningID: eveningID, SlotID: slot.ID, HouseholdID: f.household,
		StudentID: f.students[0], ShareKey: schedule.ShareKey(schedule.SplitEachHousehold, f.household, f.students[0]),
		BookedBy: "staff", ChildName: "child",
		Guardians: []store.BookingGuardian{{InviteeID: uuid.New(), Name: "A parent", LinkNonce: auth.NewLinkNonce()}}}
	b, err := e.store.Book(context.Background(), nb, func(store.Slot, []store.Booking) error { return nil }, nil, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) slots(eveningID uuid.UUID, teacher store.User) []store.Slot {
	e.t.Helper()
	ss, err := e.store.Slots(context.Background(), eveningID, teacher.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ss
}

func TestEveningCreatesEachTeachersSlots(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")

	form := e.eveningForm(a, b)
	key := "teacher_" + b.ID.String()
	form.Set(key+"_start", "16:30")
	form.Set(key+"_end", "17:40")
	form.Set(key+"_slot_minutes", "15")
	form.Set(key+"_breaks", "16:45-16:50")
	path := admin.evening(form)

	// In the database: A has 16:00-17:00 in six slots and 17:20-19:00 in
	// ten; B, 15 minutes from 16:30 around their break and everyone's,
	// has 16:30 and 17:20.
	loc := mustZone("Europe/London")
	rows, err := e.db().Query(context.Background(), `SELECT teacher_id, starts_at, ends_at FROM evening_slots
		WHERE evening_id = $1 ORDER BY teacher_id, starts_at`, eveningID(t, path))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID][]string{}
	for rows.Next() {
		var teacher uuid.UUID
		var from, to time.Time
		if err := rows.Scan(&teacher, &from, &to); err != nil {
			t.Fatal(err)
		}
		got[teacher] = append(got[teacher], from.In(loc).Format("15:04")+"-"+to.In(loc).Format("15:04"))
	}
	if len(got[a.ID]) != 16 || got[a.ID][6] != "17:20-17:30" || got[a.ID][15] != "18:50-19:00" {
		t.Errorf("teacher A's slots: %v", got[a.ID])
	}
	if strings.Join(got[b.ID], " ") != "16:30-16:45 17:20-17:35" {
		t.Errorf("teacher B's slots: %v", got[b.ID])
	}

	p := admin.get(path)
	if p.status != http.StatusOK || p.doc.Find(tid("timetable")+" "+tid("slot-free")).Length() != 18 ||
		p.doc.Find(tid("slot-break")).Length() == 0 {
		t.Errorf("timetable: %d, %d free cells", p.status, p.doc.Find(tid("slot-free")).Length())
	}
	// The edit form shows B's own hours back.
	edit := admin.get(path + "/edit")
	if edit.attr("#f-"+key+"_start", "value") != "16:30" || edit.attr("#f-"+key+"_breaks", "value") != "16:45-16:50" {
		t.Errorf("edit form: B from %q, breaks %q", edit.attr("#f-"+key+"_start", "value"), edit.attr("#f-"+key+"_breaks", "value"))
	}

	// A teacher's dashboard links to their room on the evening.
	ta := e.login("a@school.example")
	room := ta.get("/").attr(tid("evening-room-link"), "href")
	ts, _ := e.store.EveningTeachers(context.Background(), eveningID(t, path))
	if len(ts) != 2 || (room != "/meetings/"+ts[0].MeetingID.String()+"/room" && room != "/meetings/"+ts[1].MeetingID.String()+"/room") {
		t.Errorf("dashboard room link %q", room)
	}
}

func TestEveningFormRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@school.example", store.RoleAdmin)
	b := e.login("admin@school.example")
	form := e.eveningForm(admin)
	form.Set("slot_minutes", "0")
	form.Set("booking_closes", e.eveningDay()+"T20:00")
	p := b.post("/evenings", form)
	if p.status != http.StatusUnprocessableEntity || p.text("#f-slot_minutes-error") == "" || p.text("#f-booking_closes-error") == "" {
		t.Errorf("bad form: %d %q %q", p.status, p.text("#f-slot_minutes-error"), p.text("#f-booking_closes-error"))
	}
	if es, _ := e.store.Evenings(context.Background()); len(es) != 0 {
		t.Errorf("a refused form created %d evenings", len(es))
	}
}

func TestTeacherRunsAnEveningOfTheirOwn(t *testing.T) {
	e := newEnv(t)
	me := e.user("a@school.example", store.RoleTeacher)
	other := e.user("b@school.example", store.RoleTeacher)
	b := e.login("a@school.example")
	// Naming another teacher changes nothing: a teacher's evening is theirs alone.
	path := b.evening(e.eveningForm(other))
	ts, err := e.store.EveningTeachers(context.Background(), eveningID(t, path))
	if err != nil || len(ts) != 1 || ts[0].TeacherID != me.ID {
		t.Fatalf("teachers %v %v", ts, err)
	}
	if p := b.get(path + "/edit"); p.status != http.StatusOK {
		t.Errorf("the teacher cannot change their evening: %d", p.status)
	}
	if p := e.login("b@school.example").get(path); p.status != http.StatusNotFound {
		t.Errorf("another teacher sees it: %d", p.status)
	}
}

func TestEditKeepsBookedSlots(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	form := e.eveningForm(a)
	path := admin.evening(form)
	id := eveningID(t, path)
	db := e.db()
	fam := e.seedFamily(db, "Sam", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a)
	booked := e.slots(id, a)[2] // 16:20
	bk := e.book(id, fam, booked)

	// The timetable shows the booking with a move to any of A's 15 free slots, and a cancel.
	tt := admin.get(path)
	if tt.text(tid("booked-family")) != "Ann Smith" || tt.doc.Find(tid("move-form")+" option").Length() != 15 ||
		tt.attr(tid("cancel-booking-form"), "action") != path+"/bookings/"+bk.ID.String()+"/cancel" {
		t.Errorf("booked cell: %q, %d moves, cancel %q", tt.text(tid("booked-family")), tt.doc.Find(tid("move-form")+" option").Length(), tt.attr(tid("cancel-booking-form"), "action"))
	}

	// 15-minute appointments have no slot at 16:20-16:30: refused, listed, nothing changed.
	form.Set("slot_minutes", "15")
	p := admin.post(path, form)
	if p.status != http.StatusConflict || !strings.Contains(p.text(tid("orphan")), "16:20") {
		t.Fatalf("orphaning change: %d %q", p.status, p.text(tid("orphan")))
	}
	if ev, _ := e.store.Evening(context.Background(), id); ev.SlotMinutes != 10 || len(e.slots(id, a)) != 16 {
		t.Errorf("a refused change changed the evening: %d-minute slots, %d of them", ev.SlotMinutes, len(e.slots(id, a)))
	}

	// Ending later and a new break keep the booked slot as it is.
	form.Set("slot_minutes", "10")
	form.Set("end", "19:30")
	form.Set("breaks", "17:00-17:20, 18:00-18:10")
	if p := admin.post(path, form); p.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", p.status, p.text(tid("form-error")))
	}
	slots := e.slots(id, a)
	if len(slots) != 18 {
		t.Errorf("%d slots after the change, want 18", len(slots))
	}
	got, err := e.store.BookingDetail(context.Background(), bk.ID)
	if err != nil || got.SlotID != booked.ID || got.CancelledAt != nil || !slots[2].Taken || slots[2].ID != booked.ID {
		t.Errorf("the booking lost its slot: %+v %v", got.Booking, err)
	}

	// A teacher joins, is booked and cancelled, and leaves again: their
	// room is cancelled and their slots go, the cancelled booking with them.
	b := e.user("b@school.example", store.RoleTeacher)
	form.Add("teachers", b.ID.String())
	if p := admin.post(path, form); p.status != http.StatusSeeOther {
		t.Fatalf("adding B: %d %s", p.status, p.text(tid("form-error")))
	}
	gone := e.book(id, fam, e.slots(id, b)[0])
	if _, err := e.store.CancelBooking(context.Background(), gone.ID, uuid.Nil, func(store.Booking) []store.NewMail { return nil }, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	form.Del("teachers")
	form.Add("teachers", a.ID.String())
	if p := admin.post(path, form); p.status != http.StatusSeeOther {
		t.Fatalf("removing B: %d %s", p.status, p.text(tid("form-error")))
	}
	var open, slotsOfB int
	err = db.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM meetings WHERE evening_id = $1 AND owner_id = $2 AND cancelled_at IS NULL),
		(SELECT count(*) FROM evening_slots WHERE evening_id = $1 AND teacher_id = $2)`, id, b.ID).Scan(&open, &slotsOfB)
	if err != nil || open != 0 || slotsOfB != 0 || len(e.slots(id, a)) != 18 {
		t.Errorf("after removing B: %d rooms open, %d slots (%v)", open, slotsOfB, err)
	}
}

func TestEveningAccess(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	e.user("c@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	path := admin.evening(e.eveningForm(a, b))
	id := eveningID(t, path)
	fam := e.seedFamily(e.db(), "Sam Private", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a, b)
	bk := e.book(id, fam, e.slots(id, a)[0])
	notes := path + "/appointments/" + bk.ID.String() + "/notes"

	ta, tb, tc := e.login("a@school.example"), e.login("b@school.example"), e.login("c@school.example")
	if p := ta.post(notes, url.Values{"notes": {"Sam's private note"}}); p.status != http.StatusSeeOther {
		t.Fatalf("A saves a note: %d", p.status)
	}
	p := ta.get(path)
	if p.text(tid("appointment-child")) != "Sam Private" || p.text(tid("notes")) != "Sam's private note" ||
		p.attr(tid("open-room"), "href") == "" || p.doc.Find(tid("timetable")).Length() != 0 {
		t.Errorf("A's page: child %q note %q", p.text(tid("appointment-child")), p.text(tid("notes")))
	}

	// B takes part, and sees none of A's appointment.
	p = tb.get(path)
	if p.status != http.StatusOK || strings.Contains(p.body, "Sam") || strings.Contains(p.body, "private note") {
		t.Errorf("B's page shows A's appointment: %d", p.status)
	}
	for _, path := range []string{path + "/teachers/" + a.ID.String() + "/schedule", path + "/teachers/" + a.ID.String() + "/schedule.csv", path + "/edit", path + "/invite"} {
		if p := tb.get(path); p.status != http.StatusNotFound {
			t.Errorf("B GET %s: %d", path, p.status)
		}
	}
	if p := tb.get(path + "/report"); p.status != http.StatusOK || strings.Contains(p.body, "Sam") {
		t.Errorf("B's report shows A's rows: %d", p.status)
	}
	if p := tb.post(notes, url.Values{"notes": {"overwritten"}}); p.status != http.StatusNotFound {
		t.Errorf("B writes A's note: %d", p.status)
	}
	if p := tb.get(notes); p.status != http.StatusNotFound || strings.Contains(p.body, "Sam") {
		t.Errorf("B reads A's note: %d %q", p.status, p.body)
	}
	for _, post := range []string{path, path + "/cancel", path + "/invite"} {
		if p := tb.post(post, e.eveningForm(b)); p.status != http.StatusNotFound {
			t.Errorf("B POST %s: %d", post, p.status)
		}
	}
	// C does not take part: the evening does not exist for them.
	for _, path := range []string{path, path + "/report", path + "/report.csv", path + "/teachers/" + a.ID.String() + "/schedule"} {
		if p := tc.get(path); p.status != http.StatusNotFound {
			t.Errorf("C GET %s: %d", path, p.status)
		}
	}
	if p := tc.get("/evenings"); p.doc.Find(tid("evening")).Length() != 0 {
		t.Error("C's list shows an evening they are not in")
	}
	// A family, with its booking link or without, never reaches a staff page.
	family := e.browser()
	family.get("/b/" + auth.NewBookingLinks(e.cfg.Secret).Token(fam.household, nil))
	for _, path := range []string{path, path + "/report.csv", path + "/teachers/" + a.ID.String() + "/schedule.csv"} {
		if p := family.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
			t.Errorf("a family GET %s: %d %q", path, p.status, p.header.Get("Location"))
		}
	}
	if p := family.post(notes, url.Values{"notes": {"x"}}); p.status == http.StatusNoContent || p.status == http.StatusOK {
		t.Errorf("a family writes a note: %d", p.status)
	}

	ns, err := e.store.Notes(context.Background(), id, uuid.Nil)
	if err != nil || ns[bk.ID].Body != "Sam's private note" {
		t.Errorf("note in the database: %q %v", ns[bk.ID].Body, err)
	}
	// The room saves notes with fetch: 204, and the admin sees them on the report.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+notes, strings.NewReader(url.Values{"notes": {"from the room"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := ta.do(req); p.status != http.StatusNoContent {
		t.Errorf("fetch saving a note: %d", p.status)
	}
	if p := admin.get(path + "/report"); p.text(tid("report-notes")) != "from the room" {
		t.Errorf("admin's report note: %q", p.text(tid("report-notes")))
	}
	// The room's notes box loads the note it continues.
	if p := ta.get(notes); p.status != http.StatusOK || !strings.Contains(p.body, `"notes":"from the room"`) || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the room loading a note: %d %q %q", p.status, p.body, p.header.Get("Cache-Control"))
	}
	if p := ta.post(notes, url.Values{"notes": {strings.Repeat("n", 10001)}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("a note over 10,000 characters: %d", p.status)
	}
}

func TestInviteQueuesOneMailPerGuardian(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	c := e.user("c@school.example", store.RoleTeacher)
	db := e.db()
	two := e.seedFamily(db, "Sam", "7A", []guardian{{"Ann Smith", "ann@home.example"}, {"Bob Smith", "bob@home.example"}}, a)
	e.seedFamily(db, "Kim", "7A", []guardian{{"Cat Jones", ""}}, a)                             // no email: link to copy
	e.seedFamily(db, "Lee", "8C", []guardian{{"Dee Lee", "dee@home.example"}}, a)               // not the evening's class
	e.seedFamily(db, "Max", "7A", []guardian{{"Eve Max", "eve@home.example"}}, c)               // no teacher of the evening
	e.seedFamily(db, "Ned", "7A", []guardian{{"Fay Ned", "fay@home.example"}, {"Gus Ned", ""}}) // taught by nobody
	admin := e.login("admin@school.example")
	form := e.eveningForm(a)
	form.Set("classes", "7A")
	path := admin.evening(form)

	p := admin.get(path + "/invite")
	if p.doc.Find(tid("household")).Length() != 2 || p.doc.Find(tid("no-email")).Length() != 1 {
		t.Fatalf("%d households listed, %d without email", p.doc.Find(tid("household")).Length(), p.doc.Find(tid("no-email")).Length())
	}
	links := auth.NewBookingLinks(e.cfg.Secret)
	var nonce []byte
	if err := db.QueryRow(context.Background(), `SELECT link_nonce FROM households WHERE id = $1`, two.household).Scan(&nonce); err != nil {
		t.Fatal(err)
	}
	link := e.srv.URL + "/b/" + links.Token(two.household, nonce)
	if !strings.Contains(p.body, link) {
		t.Error("the Smiths' booking link is not on the page")
	}

	for range 2 {
		if p := admin.post(path+"/invite", nil); p.status != http.StatusSeeOther {
			t.Fatalf("invite: %d", p.status)
		}
	}
	rows, err := db.Query(context.Background(), `SELECT to_addr, body, dedupe_key FROM mail_queue
		WHERE kind = 'booking_invitation' AND sent_at IS NULL AND cancelled_at IS NULL ORDER BY to_addr`)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for rows.Next() {
		var addr, body, key string
		if err := rows.Scan(&addr, &body, &key); err != nil {
			t.Fatal(err)
		}
		to = append(to, addr)
		if !strings.Contains(body, link) || !strings.HasPrefix(key, "invite:"+eveningID(t, path).String()+":"+two.household.String()) {
			t.Errorf("mail to %s: key %q, link missing: %v", addr, key, !strings.Contains(body, link))
		}
	}
	if strings.Join(to, " ") != "ann@home.example bob@home.example" {
		t.Errorf("unsent invitations after inviting twice: %v", to)
	}
	// Booking on a family's behalf starts from a search: the child, with their teachers' free slots.
	found := admin.get(path + "?q=smi")
	if found.doc.Find(tid("behalf-form")).Length() != 1 || found.attr(tid("behalf-form")+" [name=household]", "value") != two.household.String() ||
		found.doc.Find(tid("behalf-form")+" option").Length() != 16 {
		t.Errorf("search: %d families, %d slots offered", found.doc.Find(tid("behalf-form")).Length(), found.doc.Find(tid("behalf-form")+" option").Length())
	}
	if p := admin.get(path + "?q=Dee"); p.doc.Find(tid("no-families")).Length() != 1 {
		t.Error("a family of another class is found")
	}
	if p := admin.get(path + "/invite?queued=2"); p.text(tid("queued")) == "" {
		t.Error("the page does not say invitations were queued")
	}
}

func TestEveningReportAndCSV(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	path := admin.evening(e.eveningForm(a, b))
	id := eveningID(t, path)
	db := e.db()
	ctx := context.Background()
	f1 := e.seedFamily(db, "=cmd|' /C calc'!A0", "7A", []guardian{{"Ann Smith", ""}}, a, b)
	f2 := e.seedFamily(db, "Kim", "7A", []guardian{{"Cat Jones", ""}}, a)
	sa, sb := e.slots(id, a), e.slots(id, b)
	held := e.book(id, f1, sa[0])
	noShow := e.book(id, f2, sa[1])
	other := e.book(id, f1, sb[3])
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.store.AppointmentStarted(ctx, held.ID, held.StartsAt.Add(3*time.Minute)))
	must(e.store.AppointmentEnded(ctx, held.ID, held.EndsAt.Add(4*time.Minute), schedule.OutcomeHeld))
	must(e.store.AppointmentEnded(ctx, noShow.ID, noShow.EndsAt, schedule.OutcomeNoShow))
	must(e.store.AppointmentStarted(ctx, other.ID, other.StartsAt.Add(-time.Minute)))
	must(e.store.AppointmentEnded(ctx, other.ID, other.EndsAt, schedule.OutcomeEndedEarly))

	p := admin.get(path + "/report")
	if p.doc.Find(tid("report-row")).Length() != 3 {
		t.Fatalf("%d report rows", p.doc.Find(tid("report-row")).Length())
	}
	tallyA := p.doc.Find(tid("tally")).Eq(0) // by name: "Name of a@…" before "Name of b@…"
	if tallyA.Find(tid("tally-held")).Text() != "1" || tallyA.Find(tid("tally-no-shows")).Text() != "1" || tallyA.Find(tid("tally-late-total")).Text() != "3 min" {
		t.Errorf("A's tally: held %q no-shows %q late %q", tallyA.Find(tid("tally-held")).Text(), tallyA.Find(tid("tally-no-shows")).Text(), tallyA.Find(tid("tally-late-total")).Text())
	}

	csvPage := admin.get(path + "/report.csv")
	recs, err := csv.NewReader(strings.NewReader(csvPage.body)).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("CSV: %d records, %v", len(recs), err)
	}
	loc := mustZone("Europe/London")
	first := recs[1] // A at 16:00, held 3 minutes late
	if first[2] != "'=cmd|' /C calc'!A0" || first[4] != held.StartsAt.In(loc).Format("2006-01-02 15:04") ||
		first[6] != held.StartsAt.Add(3*time.Minute).In(loc).Format("2006-01-02 15:04") || first[8] != "held" || first[9] != "3" {
		t.Errorf("first CSV row %q", first)
	}
	// A teacher's report holds their own rows only.
	recs, err = csv.NewReader(strings.NewReader(e.login("b@school.example").get(path + "/report.csv").body)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][8] != schedule.OutcomeEndedEarly {
		t.Errorf("B's CSV: %q %v", recs, err)
	}

	sched := admin.get(path + "/teachers/" + a.ID.String() + "/schedule.csv")
	recs, err = csv.NewReader(strings.NewReader(sched.body)).ReadAll()
	if err != nil || len(recs) != 3 || recs[2][3] != "Kim" || strings.Contains(sched.body, "/j/") {
		t.Errorf("A's schedule CSV: %q %v", recs, err)
	}
	if p := admin.get(path + "/teachers/" + a.ID.String() + "/schedule"); p.doc.Find(tid("schedule-booked")).Length() != 2 {
		t.Errorf("A's printed schedule: %d booked rows", p.doc.Find(tid("schedule-booked")).Length())
	}
}

func TestCancelEvening(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	admin := e.login("admin@school.example")
	path := admin.evening(e.eveningForm(a))
	fam := e.seedFamily(e.db(), "Sam", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a)
	nb := store.NewBooking{ID: uuid.New(), EveningID: eveningID(t, path), SlotID: e.slots(eveningID(t, path), a)[0].ID,
		HouseholdID: fam.household, StudentID: fam.students[0], ShareKey: fam.students[0].String(), BookedBy: "staff", ChildName: "Sam",
		Guardians: []store.BookingGuardian{{InviteeID: uuid.New(), Name: "Ann Smith", Email: "ann@home.example", LinkNonce: auth.NewLinkNonce()}}}
	bk, err := e.store.Book(context.Background(), nb, func(store.Slot, []store.Booking) error { return nil }, nil, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p := admin.post(path+"/cancel", nil); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", p.status)
	}
	// The family is told: its appointment is cancelled, its calendar entry
	// withdrawn by the mail, its link dead.
	var cancelled, mails, linksLive int
	err = e.db().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM bookings WHERE id = $1 AND cancelled_at IS NOT NULL),
		(SELECT count(*) FROM mail_queue WHERE kind = 'cancellation' AND to_addr = 'ann@home.example' AND cancelled_at IS NULL
			AND attachment_type LIKE '%method=CANCEL%'),
		(SELECT count(*) FROM invitees WHERE booking_id = $1 AND revoked_at IS NULL)`, bk.ID).Scan(&cancelled, &mails, &linksLive)
	if err != nil || cancelled != 1 || mails != 1 || linksLive != 0 {
		t.Errorf("after cancelling the evening: booking cancelled %d, cancellation mails %d, live links %d (%v)", cancelled, mails, linksLive, err)
	}
	var live int
	if err := e.db().QueryRow(context.Background(), `SELECT count(*) FROM meetings WHERE evening_id = $1 AND cancelled_at IS NULL`,
		eveningID(t, path)).Scan(&live); err != nil || live != 0 {
		t.Errorf("%d rooms still open (%v)", live, err)
	}
	if p := admin.get(path); p.doc.Find(tid("evening-cancelled")).Length() != 1 || p.doc.Find(tid("edit-evening")).Length() != 0 {
		t.Error("a cancelled evening still offers changes")
	}
	if p := e.login("a@school.example").get("/"); p.doc.Find(tid("evening-room")).Length() != 0 {
		t.Error("the dashboard still offers the cancelled evening's room")
	}
}

// A teacher who runs an evening of their own manages it, but a colleague
// an administrator added to it keeps their notes to themselves: notes are
// for their teacher and administrators only.
func TestOwnersReportHoldsNoColleaguesNotes(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	ta, tb, admin := e.login("a@school.example"), e.login("b@school.example"), e.login("admin@school.example")
	path := ta.evening(e.eveningForm())
	if p := admin.post(path, e.eveningForm(a, b)); p.status != http.StatusSeeOther {
		t.Fatalf("admin adds B to A's evening: %d", p.status)
	}
	id := eveningID(t, path)
	fam := e.seedFamily(e.db(), "Sam Private", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a, b)
	bk := e.book(id, fam, e.slots(id, b)[0])
	if p := tb.post(path+"/appointments/"+bk.ID.String()+"/notes", url.Values{"notes": {"B's private note"}}); p.status != http.StatusSeeOther {
		t.Fatalf("B saves a note: %d", p.status)
	}
	if p := ta.get(path + "/report"); p.status != http.StatusOK || strings.Contains(p.body, "private note") {
		t.Errorf("A's report shows B's note: %d", p.status)
	}
	if p := admin.get(path + "/report"); p.text(tid("report-notes")) != "B's private note" {
		t.Errorf("admin's report note: %q", p.text(tid("report-notes")))
	}
}

// A family's booking link opens all its appointments, with every teacher:
// no teacher can come by it, neither on the booking links page of an
// evening of their own nor through an appointment's join link (whose
// thank-you page leads to it) on their room's meeting page or its .ics.
// Only administrators see booking links.
func TestTeachersNeverReachAFamilysBookingLink(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	admin, ta := e.login("admin@school.example"), e.login("a@school.example")
	path := admin.evening(e.eveningForm(a, b))
	id := eveningID(t, path)
	db := e.db()
	fam := e.seedFamily(db, "Sam Private", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a, b)
	e.book(id, fam, e.slots(id, a)[0])
	e.book(id, fam, e.slots(id, b)[3]) // with a colleague: not A's to see or change
	var nonce []byte
	if err := db.QueryRow(context.Background(), `SELECT link_nonce FROM households WHERE id = $1`, fam.household).Scan(&nonce); err != nil {
		t.Fatal(err)
	}
	bookingToken := auth.NewBookingLinks(e.cfg.Secret).Token(fam.household, nonce)

	own := ta.evening(e.eveningForm())
	if p := ta.get(own + "/invite"); p.status != http.StatusOK || strings.Contains(p.body, bookingToken) {
		t.Errorf("A's own evening's booking links page: %d, shows the family's booking link: %v", p.status, strings.Contains(p.body, bookingToken))
	}
	if p := admin.get(own + "/invite"); !strings.Contains(p.body, bookingToken) {
		t.Error("an administrator does not see the booking link")
	}

	var room uuid.UUID
	if err := db.QueryRow(context.Background(), `SELECT meeting_id FROM evening_teachers WHERE evening_id = $1 AND teacher_id = $2`, id, a.ID).Scan(&room); err != nil {
		t.Fatal(err)
	}
	meeting := ta.get("/meetings/" + room.String())
	if meeting.status != http.StatusOK {
		t.Fatalf("A's room's meeting page: %d", meeting.status)
	}
	seen := meeting.body
	meeting.doc.Find(`a[href$="/ics"]`).Each(func(_ int, sel *goquery.Selection) {
		href, _ := sel.Attr("href")
		p := ta.get(href)
		if p.status == http.StatusOK {
			icstest.Check(t, []byte(p.body))
		}
		seen += strings.ReplaceAll(p.body, "\r\n ", "") // unfolded
	})
	family := e.browser()
	for _, join := range regexp.MustCompile(`/j/[A-Za-z0-9_-]+`).FindAllString(seen, -1) {
		if p := family.get(join + "/thanks"); strings.Contains(p.body, bookingToken) {
			t.Errorf("A reaches the family's booking link through the join link %s on their room's pages", join)
		}
	}
}

// A teacher's room on an evening changes with the evening: the ordinary
// meeting form cannot re-plan it (its hours, or a recording policy the
// evening does not allow) nor cancel it while families book with them.
func TestEveningRoomIsNotAnOrdinaryMeeting(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	admin, ta := e.login("admin@school.example"), e.login("a@school.example")
	id := eveningID(t, admin.evening(e.eveningForm(a)))
	db := e.db()
	var room uuid.UUID
	if err := db.QueryRow(context.Background(), `SELECT meeting_id FROM evening_teachers WHERE evening_id = $1 AND teacher_id = $2`, id, a.ID).Scan(&room); err != nil {
		t.Fatal(err)
	}
	path := "/meetings/" + room.String()
	if p := ta.get(path); p.status != http.StatusOK || p.doc.Find(tid("edit-meeting")).Length() != 0 || p.doc.Find(tid("cancel-meeting")).Length() != 0 {
		t.Errorf("the room's page: %d, offers to edit or cancel it", p.status)
	}
	if p := ta.get(path + "/edit"); p.status != http.StatusNotFound {
		t.Errorf("GET the room's meeting form: %d, want 404", p.status)
	}
	start := e.clock.Now().Add(48 * time.Hour).In(mustZone("Europe/London"))
	form := url.Values{"title": {"Mine now"}, "date": {start.Format("2006-01-02")}, "time": {"09:00"}, "duration": {"30"},
		"time_zone": {"Europe/London"}, "lobby_policy": {"invitees_admitted"}, "recording_policy": {"host_may_record"},
		"unmute_policy": {"self"}, "screen_share_policy": {"hosts"}}
	if p := ta.post(path, form); p.status != http.StatusNotFound {
		t.Errorf("re-planning the room as a meeting: %d, want 404", p.status)
	}
	if p := ta.post(path+"/cancel", nil); p.status != http.StatusNotFound {
		t.Errorf("cancelling the room as a meeting: %d, want 404", p.status)
	}
	var title, recording string
	var cancelled bool
	if err := db.QueryRow(context.Background(), `SELECT title, recording_policy, cancelled_at IS NOT NULL FROM meetings WHERE id = $1`, room).Scan(&title, &recording, &cancelled); err != nil {
		t.Fatal(err)
	}
	if title != "Year 7 parents' evening" || recording != "not_allowed" || cancelled {
		t.Errorf("the room after the meeting forms: %q, recording %s, cancelled %v", title, recording, cancelled)
	}
}

// A teacher changing the evening they run keeps the colleague an
// administrator added, with the colleague's own hours and bookings: the
// teacher's form does not choose teachers, so it must not drop them.
func TestOwnerEditKeepsColleagues(t *testing.T) {
	e := newEnv(t)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.user("a@school.example", store.RoleTeacher)
	b := e.user("b@school.example", store.RoleTeacher)
	ta, admin := e.login("a@school.example"), e.login("admin@school.example")
	path := ta.evening(e.eveningForm())
	id := eveningID(t, path)
	withB := e.eveningForm(a, b)
	withB.Set(schedule.TeacherField(b.ID.String(), "start"), "17:30")
	if p := admin.post(path, withB); p.status != http.StatusSeeOther {
		t.Fatalf("admin adds B to A's evening: %d", p.status)
	}
	fam := e.seedFamily(e.db(), "Sam", "7A", []guardian{{"Ann Smith", "ann@home.example"}}, a, b)
	bk := e.book(id, fam, e.slots(id, b)[0])

	renamed := e.eveningForm()
	renamed.Set("name", "Year 7 evening (renamed)")
	if p := ta.post(path, renamed); p.status != http.StatusSeeOther {
		t.Fatalf("A changes the evening: %d %s", p.status, p.doc.Find("[aria-invalid=true], .field-error, .error, [role=alert]").Text())
	}
	ts, err := e.store.EveningTeachers(context.Background(), id)
	if err != nil || len(ts) != 2 {
		t.Fatalf("after A's change the evening has %d teachers (%v), want A and B", len(ts), err)
	}
	if slots := e.slots(id, b); len(slots) == 0 || slots[0].StartsAt != bk.StartsAt || !slots[0].Taken {
		t.Errorf("B's first slot after A's change: %+v, want B's own 17:30 start kept, booked", slots)
	}
}
