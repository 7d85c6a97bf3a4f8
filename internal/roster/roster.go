// Package roster reads the school's CSV of students, guardians and teachers
// into validated rows, and holds the rules each row keeps, for the file and
// the hand form alike. It writes nothing: store.ImportRoster does.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"classmeet/internal/store"
)

// Limits on a file.
const (
	MaxBytes = 10 << 20
	MaxRows  = 20_000
)

// Columns is the file's header, in the order the documentation shows it.
// guardian_phone and teachers may be left out; the others are required.
const Columns = "student_id,student_name,class,guardian_name,guardian_email,guardian_phone,household,teachers"

func optionalColumn(name string) bool { return name == "guardian_phone" || name == "teachers" }

// Parse reads a whole file: UTF-8 (with or without a byte order mark),
// fields separated by "," or ";" (whichever the header uses), lines ended
// by LF or CRLF, fields optionally quoted. Every problem of every line is
// returned together, as store.RowErrors, with the roster of the rows that
// had none (to check their teachers too); a file refused as a whole (too
// large, no rows) returns one of this package's errors.
func Parse(r io.Reader) (store.Roster, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return store.Roster{}, fmt.Errorf("roster: read: %w", err)
	}
	if len(data) > MaxBytes {
		return store.Roster{}, fmt.Errorf("roster: %w", ErrTooLarge)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return store.Roster{}, store.RowErrors{{Line: badUTF8Line(data), Reason: ErrNotUTF8.Error()}}
	}
	rows, errs, err := readRows(data)
	if err != nil {
		return store.Roster{}, err
	}
	ros, buildErr := Build(rows, lineRef)
	var more store.RowErrors
	if errors.As(buildErr, &more) {
		errs = append(errs, more...)
	}
	if len(errs) > 0 {
		errs.Sort()
		return ros, errs
	}
	return ros, nil
}

func lineRef(line int) string { return fmt.Sprintf("line %d", line) }

// badUTF8Line is the line of data's first byte that is not UTF-8.
func badUTF8Line(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return bytes.Count(data[:i], []byte("\n")) + 1
		}
		i += n
	}
	return 0
}

// readRows reads the header and every row, checking each row's fields.
// Rows with problems are left out of rows and reported in errs.
func readRows(data []byte) (rows []Row, errs store.RowErrors, err error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffSeparator(data)
	cr.FieldsPerRecord = -1 // a short row is a row error, not the end of the file
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("roster: %w", ErrEmpty)
	}
	if err != nil {
		return nil, store.RowErrors{csvError(err)}, nil
	}
	cols, problems := readHeader(header)
	if len(problems) > 0 {
		return nil, problems, nil
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, nil, fmt.Errorf("roster: %w", ErrEmpty)
			}
			return rows, errs, nil
		}
		if n >= MaxRows {
			return nil, nil, fmt.Errorf("roster: %w", ErrTooManyRows)
		}
		if err != nil {
			errs = append(errs, csvError(err))
			continue
		}
		line, _ := cr.FieldPos(0)
		row, rowErrs := cols.row(rec, line)
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			continue
		}
		rows = append(rows, row)
	}
}

// sniffSeparator picks "," or ";", whichever the header line holds more of
// outside quotes.
func sniffSeparator(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	commas, semicolons, quoted := 0, 0, false
	for _, c := range first {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			commas++
		case c == ';':
			semicolons++
		}
	}
	if semicolons > commas {
		return ';'
	}
	return ','
}

func csvError(err error) store.RowError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return store.RowError{Line: pe.StartLine, Reason: "cannot be read: " + pe.Err.Error() + " (a field with a quote, comma or semicolon must be in double quotes, and its quotes doubled)"}
	}
	return store.RowError{Reason: "cannot be read: " + err.Error()}
}

// columns maps a column name to its index in the file's rows.
type columns map[string]int

// readHeader matches the header's names to the known columns, in any order
// and any case.
func readHeader(header []string) (columns, store.RowErrors) {
	cols, errs := columns{}, store.RowErrors{}
	known := strings.Split(Columns, ",")
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !slices.Contains(known, name):
			errs = append(errs, store.RowError{Line: 1, Reason: fmt.Sprintf("unknown column %q: the columns are %s", name, Columns)})
		case cols.has(name):
			errs = append(errs, store.RowError{Line: 1, Reason: fmt.Sprintf("column %q appears twice", name)})
		default:
			cols[name] = i
		}
	}
	for _, name := range known {
		if !cols.has(name) && !optionalColumn(name) {
			errs = append(errs, store.RowError{Line: 1, Reason: fmt.Sprintf("column %q is missing", name)})
		}
	}
	return cols, errs
}

func (c columns) has(name string) bool { _, ok := c[name]; return ok }

func (c columns) get(rec []string, name string) string {
	if i, ok := c[name]; ok {
		return rec[i]
	}
	return ""
}

// row reads and checks one record.
func (c columns) row(rec []string, line int) (Row, store.RowErrors) {
	if len(rec) != len(c) {
		return Row{}, store.RowErrors{{Line: line, Reason: fmt.Sprintf("has %d fields, but the header has %d", len(rec), len(c))}}
	}
	r := Row{
		Line: line, StudentID: c.get(rec, "student_id"), StudentName: c.get(rec, "student_name"),
		Class: c.get(rec, "class"), GuardianName: c.get(rec, "guardian_name"),
		GuardianEmail: c.get(rec, "guardian_email"), GuardianPhone: c.get(rec, "guardian_phone"),
		Household: c.get(rec, "household"), Teachers: parseTeachers(c.get(rec, "teachers"), line),
	}
	return r, r.Check().errors(line)
}

// errors lists the problems of the row on line, in the file's column order.
func (p Problems) errors(line int) store.RowErrors {
	var errs store.RowErrors
	for col := range strings.SplitSeq(Columns, ",") {
		if reason, ok := p[col]; ok {
			errs = append(errs, store.RowError{Line: line, Reason: col + " " + reason})
		}
	}
	return errs
}
