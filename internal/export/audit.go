package export

import (
	"encoding/csv"
	"io"
	"time"

	"classmeet/internal/store"
)

// AuditCSV writes audit entries as CSV a page at a time, so a log of any
// length is written out with one page in memory.
type AuditCSV struct {
	cw  *csv.Writer
	loc *time.Location
}

// NewAuditCSV writes the header row to w; times are written in loc with
// their offset (so the hour repeated when clocks go back stays two hours).
func NewAuditCSV(w io.Writer, loc *time.Location) (*AuditCSV, error) {
	a := &AuditCSV{cw: csv.NewWriter(w), loc: loc}
	_ = a.cw.Write([]string{"When", "Who", "Role", "Address", "Kind", "Did", "To whom", "Detail", "Meeting", "Meeting id"})
	return a, a.flush()
}

// Write writes a page of entries and flushes them to the writer, so
// nothing of the page is held once it returns.
func (a *AuditCSV) Write(es []store.AuditEntry) error {
	for _, e := range es {
		meetingID := ""
		if e.MeetingID != nil {
			meetingID = e.MeetingID.String()
		}
		rec := []string{e.At.In(a.loc).Format("2006-01-02 15:04:05 -07:00"), e.ActorName, e.ActorRole, e.Source, e.Kind,
			e.Action, e.TargetName, e.Detail, e.MeetingTitle, meetingID}
		if err := writeRow(a.cw, rec); err != nil {
			return err
		}
	}
	return a.flush()
}

func (a *AuditCSV) flush() error {
	a.cw.Flush()
	return a.cw.Error()
}
