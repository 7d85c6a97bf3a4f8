package export

import (
	"encoding/csv"
	"io"
	"time"

	"classmeet/internal/store"
)

// WriteAuditCSV writes audit entries as CSV, times in loc with their
// offset (so the hour repeated when clocks go back stays two hours).
func WriteAuditCSV(w io.Writer, es []store.AuditEntry, loc *time.Location) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"When", "Who", "Role", "Address", "Kind", "Did", "To whom", "Detail", "Meeting", "Meeting id"})
	for _, e := range es {
		meetingID := ""
		if e.MeetingID != nil {
			meetingID = e.MeetingID.String()
		}
		rec := []string{e.At.In(loc).Format("2006-01-02 15:04:05 -07:00"), e.ActorName, e.ActorRole, e.Source, e.Kind,
			e.Action, e.TargetName, e.Detail, e.MeetingTitle, meetingID}
		if err := writeRow(cw, rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
