package roster

import (
	"errors"
	"fmt"
)

// Why a whole file is refused (each is reported as a RowError of line 1, or
// of no line).
var (
	ErrTooLarge    = fmt.Errorf("the file is larger than %d MiB; split it into several files", MaxBytes>>20)
	ErrTooManyRows = fmt.Errorf("the file has more than %d rows; split it into several files", MaxRows)
	ErrEmpty       = errors.New("the file has no rows under its header")
	ErrNotUTF8     = errors.New("the file is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\"")
)
