package live

import (
	"errors"
	"log/slog"

	"classmeet/internal/meeting"
)

// The people of the hub tests: a host and two parents.
var (
	host  = meeting.Arrival{ID: "host", Name: "Ms Smith", Role: meeting.RoleHost, Identity: "user-1"}
	jones = meeting.Arrival{ID: "jones", Name: "mr  JONES", Role: meeting.RoleParticipant, InviteeID: "inv-1", InviteeName: "Mr Jones", Identity: "inv-1"}
	patel = meeting.Arrival{ID: "patel", Name: "Priya", Role: meeting.RoleParticipant, InviteeID: "inv-2", InviteeName: "Mrs Patel", Identity: "inv-2"}
)

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func isRefusal(err error, code string) bool {
	var r *meeting.Refusal
	return errors.As(err, &r) && r.Code == code
}
