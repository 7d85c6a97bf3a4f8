package textrule

import (
	"errors"
	"fmt"
)

// Why a name is refused; each reads after the field's name ("name is
// required").
var (
	ErrNameMissing  = errors.New("is required")
	ErrNameNotPlain = errors.New("must be one line of plain text")
	ErrNameTooLong  = fmt.Errorf("must be at most %d characters", MaxName)
)
