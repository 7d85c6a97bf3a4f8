package store_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classmeet/internal/pgtest"
	"classmeet/internal/roster"
	"classmeet/internal/roster/rostertest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

func nonce() []byte { return []byte(rand.Text()) }

// rosterDB is a store on a new database, and a connection of the test's
// own to look at its tables.
type rosterDB struct {
	*store.Store
	conn *pgx.Conn
}

func newRosterDB(t *testing.T) rosterDB {
	t.Helper()
	url := pgtest.NewDatabase(t)
	st, err := store.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, discard()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return rosterDB{st, conn}
}

func teachers(t *testing.T, st rosterDB, n int) []string {
	t.Helper()
	var emails []string
	for i := range n {
		emails = append(emails, newUser(t, st.Store, fmt.Sprintf("teacher%d@school.example", i)).Email)
	}
	return emails
}

func parse(t *testing.T, file string) store.Roster {
	t.Helper()
	r, err := roster.Parse(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rosterTables is what every family table holds, every column and the
// transaction that last wrote each row, as one checksum per table, and how
// many transactions wrote its rows.
func rosterTables(t *testing.T, st rosterDB) map[string]string {
	t.Helper()
	conn := st.conn
	sums := map[string]string{}
	for _, table := range []string{"households", "guardians", "students", "student_households", "student_teachers"} {
		var sum string
		var n, txs int
		err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text || t.xmin::text, '|' ORDER BY t::text)), ''), count(*), count(DISTINCT t.xmin::text)
			FROM %s t`, table)).Scan(&sum, &n, &txs)
		if err != nil {
			t.Fatal(err)
		}
		sums[table] = fmt.Sprintf("%d rows by %d transactions, %s", n, txs, sum)
	}
	return sums
}

func TestImportRosterOf2000StudentsThenAgainChangesNothing(t *testing.T) {
	st := newRosterDB(t)
	file := rostertest.CSV(2000, teachers(t, st, 6))
	now := testclock.Now()

	c, err := st.ImportRoster(ctx, parse(t, file), nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	want := store.RosterCounts{
		Students: store.Change{Created: 2000}, Households: store.Change{Created: 1200}, Guardians: store.Change{Created: 2200},
		HouseholdLinks: store.Change{Created: 2200}, TeacherLinks: store.Change{Created: 6000},
	}
	if c != want {
		t.Fatalf("first import: %+v\nwant %+v", c, want)
	}
	first := rosterTables(t, st)
	for table, sum := range first {
		if !strings.Contains(sum, " by 1 transactions") {
			t.Errorf("%s: %s; want every row written by one transaction", table, sum)
		}
	}
	checkSplitStudent(t, st)

	c, err = st.ImportRoster(ctx, parse(t, file), nonce, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want = store.RosterCounts{Students: store.Change{Unchanged: 2000}, Households: store.Change{Unchanged: 1200}, Guardians: store.Change{Unchanged: 2200}}
	if c != want {
		t.Errorf("second import: %+v\nwant %+v", c, want)
	}
	if again := rosterTables(t, st); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("re-import changed rows:\nbefore %v\nafter  %v", first, again)
	}
}

// checkSplitStudent checks that student S00000 landed in both its
// households, and each household sees its own guardians only.
func checkSplitStudent(t *testing.T, st rosterDB) {
	t.Helper()
	conn := st.conn
	for _, key := range []string{"HH00000", "HS00000"} {
		var id uuid.UUID
		if err := conn.QueryRow(ctx, `SELECT id FROM households WHERE external_id = $1`, key).Scan(&id); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		f, err := st.Family(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Students) == 0 || f.Students[0].ExternalID != "S00000" || len(f.Household.LinkNonce) == 0 {
			t.Errorf("%s: students %+v", key, f.Students)
		}
		for _, g := range f.Guardians {
			if !strings.HasSuffix(g.Name, key) {
				t.Errorf("%s has guardian %q", key, g.Name)
			}
		}
		if key == "HH00000" && (len(f.Guardians) != 2 || f.Guardians[1].Phone != "+44 7700 000001") {
			t.Errorf("%s: guardians %+v", key, f.Guardians)
		}
		if len(f.Teachers) != 2*3 && len(f.Teachers) != 3 {
			t.Errorf("%s: %d teachers", key, len(f.Teachers))
		}
	}
}

func TestImportRosterWithUnknownTeachersWritesNothing(t *testing.T) {
	st := newRosterDB(t)
	emails := teachers(t, st, 3)
	if _, err := st.ImportRoster(ctx, parse(t, rostertest.CSV(200, emails)), nonce, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	before := rosterTables(t, st)

	disabled := newUser(t, st.Store, "gone@school.example")
	if err := st.SetUserDisabled(ctx, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(rostertest.CSV(300, emails), "\n")
	lines[5] = strings.Replace(lines[5], emails[0], "nobody@school.example", 1)
	lines[170] = strings.Replace(lines[170], emails[1], "gone@school.example", 1)
	lines[330] = strings.Replace(lines[330], emails[2], "Nobody@School.example:Art", 1)
	_, err := st.ImportRoster(ctx, parse(t, strings.Join(lines, "\n")), nonce, testclock.Now())
	var errs store.RowErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want row errors", err)
	}
	var got []int
	for _, e := range errs {
		got = append(got, e.Line)
	}
	if fmt.Sprint(got) != "[6 171 331]" {
		t.Errorf("errors on lines %v (%v), want [6 171 331]", got, errs)
	}
	if after := rosterTables(t, st); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused import wrote rows:\nbefore %v\nafter  %v", before, after)
	}
}

func TestImportRosterFollowsTheFile(t *testing.T) {
	st := newRosterDB(t)
	emails := teachers(t, st, 2)
	first := roster.Columns + "\n" +
		"S1,Ada,7B,Anne,anne@home.example,,H1," + emails[0] + ":Maths\n" +
		"S1,Ada,7B,Bob,bob@home.example,,H2,\n"
	if _, err := st.ImportRoster(ctx, parse(t, first), nonce, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	// Ada moves up a class and lives in H1 only; Anne changes her email and
	// gets a second guardian; the teachers change.
	second := roster.Columns + "\n" +
		"S1,Ada,8B,Anne,anne@new.example,,h1," + emails[1] + "\n" +
		"S1,Ada,8B,Carl,carl@home.example,0123 456,H1,\n"
	c, err := st.ImportRoster(ctx, parse(t, second), nonce, testclock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := store.RosterCounts{
		Students: store.Change{Updated: 1}, Households: store.Change{Unchanged: 1},
		Guardians: store.Change{Created: 1, Updated: 1}, HouseholdLinks: store.Change{Removed: 1},
		TeacherLinks: store.Change{Created: 1, Removed: 1},
	}
	if c != want {
		t.Errorf("counts %+v\nwant %+v", c, want)
	}
	conn := st.conn
	var h1 uuid.UUID
	if err := conn.QueryRow(ctx, `SELECT id FROM households WHERE external_id = 'H1'`).Scan(&h1); err != nil {
		t.Fatal(err)
	}
	f, err := st.Family(ctx, h1)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Students) != 1 || f.Students[0].ClassName != "8B" || len(f.Guardians) != 2 || f.Guardians[0].Email != "anne@new.example" ||
		f.Guardians[1].Phone != "0123 456" || len(f.Teachers) != 1 || f.Teachers[0].Subject != "" {
		t.Errorf("H1 = %+v", f)
	}
	var links int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM student_households`).Scan(&links)
	if links != 1 {
		t.Errorf("%d student-household links, want 1 (Ada left H2)", links)
	}
}

func TestSaveFamilyTouchesOneHousehold(t *testing.T) {
	st := newRosterDB(t)
	emails := teachers(t, st, 1)
	file := roster.Columns + "\n" +
		"S1,Ada,7B,Anne,anne@home.example,,H1," + emails[0] + "\n" +
		"S1,Ada,7B,Carl,carl@home.example,,H2,\n" +
		"S2,Ben,9C,Anne,anne@home.example,,H1,\n"
	if _, err := st.ImportRoster(ctx, parse(t, file), nonce, testclock.Now()); err != nil {
		t.Fatal(err)
	}
	var h1, h2 uuid.UUID
	_ = st.conn.QueryRow(ctx, `SELECT id FROM households WHERE external_id = 'H1'`).Scan(&h1)
	_ = st.conn.QueryRow(ctx, `SELECT id FROM households WHERE external_id = 'H2'`).Scan(&h2)

	// H1, typed by hand: renamed H1a, Ada only (Ben leaves it), a new phone.
	form := parse(t, roster.Columns+"\nS1,Ada,7B,Anne,anne@home.example,0123 456,H1a,"+emails[0]+"\n")
	if id, err := st.SaveFamily(ctx, h1, form, nonce, testclock.Now()); err != nil || id != h1 {
		t.Fatalf("save = %v, %v", id, err)
	}
	f1, _ := st.Family(ctx, h1)
	f2, _ := st.Family(ctx, h2)
	if f1.Household.ExternalID != "H1a" || len(f1.Students) != 1 || f1.Students[0].ExternalID != "S1" || f1.Guardians[0].Phone != "0123 456" {
		t.Errorf("H1 = %+v", f1)
	}
	if len(f2.Students) != 1 || f2.Students[0].ExternalID != "S1" {
		t.Errorf("Ada's other household lost her: %+v", f2)
	}

	taken := parse(t, roster.Columns+"\nS1,Ada,7B,Carl,carl@home.example,,h1A,\n")
	if _, err := st.SaveFamily(ctx, h2, taken, nonce, testclock.Now()); !errors.Is(err, store.ErrHouseholdKeyTaken) {
		t.Errorf("another household's key: %v", err)
	}
	if _, err := st.SaveFamily(ctx, uuid.New(), form, nonce, testclock.Now()); !errors.Is(err, store.ErrHouseholdKeyTaken) {
		t.Errorf("a missing household with a taken key: %v", err)
	}
	fresh := parse(t, roster.Columns+"\nS9,Cy,7B,Dee,dee@home.example,,H9,\n")
	if _, err := st.SaveFamily(ctx, uuid.New(), fresh, nonce, testclock.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing household: %v", err)
	}
	id, err := st.SaveFamily(ctx, uuid.Nil, fresh, nonce, testclock.Now())
	if f, _ := st.Family(ctx, id); err != nil || f.Household.ExternalID != "H9" || len(f.Household.LinkNonce) == 0 || len(f.Students) != 1 {
		t.Errorf("new household = %+v, %v", f, err)
	}
}
