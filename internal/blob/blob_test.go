package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"classmeet/internal/blob"
	"classmeet/internal/blobtest"
)

var ctx = context.Background()

func stores(t *testing.T) map[string]blob.Store {
	t.Helper()
	dir, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blob.Store{"dir": dir, "s3": blobtest.StartS3(t).Store()}
}

func TestPutOpenDelete(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if err := st.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			// 20 MiB: above the S3 part size, so multipart.
			data := make([]byte, 20<<20)
			_, _ = rand.Read(data)
			src := filepath.Join(t.TempDir(), "src")
			if err := os.WriteFile(src, data, 0o600); err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256(data)
			info, err := st.Put(ctx, "recordings/r1/a.ivf", src, "video/x-ivf")
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(data)) || info.SHA256 != hex.EncodeToString(want[:]) {
				t.Errorf("info %+v", info)
			}
			obj, err := st.Open(ctx, "recordings/r1/a.ivf")
			if err != nil {
				t.Fatal(err)
			}
			if obj.Size() != int64(len(data)) {
				t.Errorf("size %d", obj.Size())
			}
			if _, err := obj.Seek(10<<20, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 1000)
			if _, err := io.ReadFull(obj, part); err != nil || !bytes.Equal(part, data[10<<20:10<<20+1000]) {
				t.Errorf("ranged read: %v", err)
			}
			obj.Close()
			if err := st.Delete(ctx, "recordings/r1/a.ivf"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Open(ctx, "recordings/r1/a.ivf"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("open after delete: %v", err)
			}
			if err := st.Delete(ctx, "recordings/r1/a.ivf"); err != nil {
				t.Errorf("second delete: %v", err)
			}
			for _, bad := range []string{"", "/etc/passwd", "../x", "recordings/../../x", "a\\b", "a\x00b"} {
				if _, err := st.Open(ctx, bad); err == nil || errors.Is(err, blob.ErrNotFound) {
					t.Errorf("key %q: %v", bad, err)
				}
			}
		})
	}
}

func TestS3DownIsNotReady(t *testing.T) {
	srv := blobtest.StartS3(t)
	st := srv.Store()
	srv.Stop()
	if err := st.Ready(ctx); err == nil {
		t.Error("ready with the server down")
	}
	srv.Start()
	if err := st.Ready(ctx); err != nil {
		t.Errorf("not ready after restart: %v", err)
	}
}

func TestS3StartsWhileStorageIsDown(t *testing.T) {
	srv := blobtest.StartS3(t)
	srv.Stop()
	st, err := blob.OpenS3(ctx, srv.Config) // classmeet starting while S3 is down
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "recordings/r/x", src, "text/plain"); err == nil {
		t.Fatal("put with the server down")
	}
	srv.Start() // an empty server: the bucket is made on the next put
	if _, err := st.Put(ctx, "recordings/r/x", src, "text/plain"); err != nil {
		t.Fatal(err)
	}
}
