// Package blob keeps recordings in object storage: an S3-compatible bucket
// (minio-go), or a local directory for the zero-setup default. Keys are made
// by the server, never taken from a request.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Store is where finished recording files go.
type Store interface {
	// Put uploads the local file at path under key and checks the stored
	// copy: its size, and its SHA-256 read back. It returns that checksum.
	Put(ctx context.Context, key, path, contentType string) (Info, error)
	// Open opens a stored object for reading, with seeking for ranges.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Ready reports whether the store can be used now.
	Ready(ctx context.Context) error
	// String names the store for logs.
	String() string
}

// Info describes a stored object.
type Info struct {
	Size   int64
	SHA256 string // hex
}

// Object is a stored object open for reading.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// checkKey refuses keys that could escape or confuse a store: keys are
// made by classmeet (recordings/<uuid>/<name>), so anything else is a bug.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("blob: refusing key %q", key)
	}
	return nil
}

// fileSum is the size and SHA-256 of a local file.
func fileSum(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	return sum(f)
}

func sum(r io.Reader) (Info, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return Info{}, err
	}
	return Info{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
