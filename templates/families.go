package templates

import (
	"fmt"
	"net/url"

	"github.com/google/uuid"

	"classmeet/internal/roster"
	"classmeet/internal/store"
)

func rosterColumns() string { return roster.Columns }

func urlQuery(s string) string { return url.QueryEscape(s) }

// familyAction is where the family form posts: the household's page, or
// the new-family page.
func familyAction(id uuid.UUID) string {
	if id == uuid.Nil {
		return "/admin/families/new"
	}
	return "/admin/families/" + id.String()
}

// changeText says what an import did to one kind of row.
func changeText(c store.Change) string {
	s := fmt.Sprintf("%d new, %d updated, %d unchanged", c.Created, c.Updated, c.Unchanged)
	if c.Removed > 0 {
		s += fmt.Sprintf(", %d removed", c.Removed)
	}
	return s
}
