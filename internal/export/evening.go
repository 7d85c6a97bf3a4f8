package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// WriteTeacherScheduleCSV writes a teacher's appointments as CSV, times in
// loc. It holds no join links: the file is printed and passed around.
func WriteTeacherScheduleCSV(w io.Writer, bookings []store.BookingDetail, loc *time.Location) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Start", "End", "Family", "Child", "Class"})
	for _, b := range bookings {
		if err := writeRow(cw, []string{csvTime(&b.StartsAt, loc), csvTime(&b.EndsAt, loc), b.Family, b.StudentName, b.ClassName}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteEveningReportCSV writes an evening's appointments, planned against
// actual, as CSV, times in loc; lateness in whole minutes.
func WriteEveningReportCSV(w io.Writer, lines []schedule.ReportLine, loc *time.Location) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Teacher", "Family", "Child", "Class", "Planned start", "Planned end",
		"Actual start", "Actual end", "Outcome", "Minutes late"})
	for _, l := range lines {
		late := ""
		if l.Lateness != nil {
			late = strconv.Itoa(int(l.Lateness.Round(time.Minute) / time.Minute))
		}
		rec := []string{l.TeacherName, l.Family, l.StudentName, l.ClassName, csvTime(&l.StartsAt, loc),
			csvTime(&l.EndsAt, loc), csvTime(l.StartedAt, loc), csvTime(l.EndedAt, loc), l.Outcome, late}
		if err := writeRow(cw, rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeRow writes one record with every cell neutralised.
func writeRow(cw *csv.Writer, rec []string) error {
	for i := range rec {
		rec[i] = NeutraliseCell(rec[i])
	}
	return cw.Write(rec)
}
