// Package migrations holds classmeet's schema as goose SQL files, embedded in the binary.
package migrations

import "embed"

// FS holds every migration, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
