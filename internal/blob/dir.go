package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"
)

// Dir stores objects as files under a directory, confined to it with
// os.Root: no key can name a file outside.
type Dir struct {
	root *os.Root
	path string
}

// OpenDir opens (creating) a directory store.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob: directory %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: directory %s: %w", dir, err)
	}
	return &Dir{root: root, path: dir}, nil
}

func (d *Dir) String() string { return "directory " + d.path }

// Put copies the file in under a temporary name, syncs it, checks it, and
// renames it into place.
func (d *Dir) Put(ctx context.Context, key, src, contentType string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	want, err := fileSum(src)
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := d.root.MkdirAll(path.Dir(key), 0o750); err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	tmp := key + ".part"
	if err := d.copyIn(src, tmp); err != nil {
		_ = d.root.Remove(tmp)
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	got, err := d.sumOf(tmp)
	if err != nil || got != want {
		_ = d.root.Remove(tmp)
		return Info{}, fmt.Errorf("%w: %s (%v)", ErrMismatch, key, err)
	}
	if err := d.root.Rename(tmp, key); err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, err)
	}
	return got, nil
}

func (d *Dir) copyIn(src, tmp string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := d.root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (d *Dir) sumOf(key string) (Info, error) {
	f, err := d.root.Open(key)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	return sum(f)
}

// Open opens a stored file.
func (d *Dir) Open(_ context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := d.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return dirObject{File: f, info: st}, nil
}

type dirObject struct {
	*os.File
	info fs.FileInfo
}

func (o dirObject) Size() int64        { return o.info.Size() }
func (o dirObject) ModTime() time.Time { return o.info.ModTime() }

// Delete removes a stored file.
func (d *Dir) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// Ready checks the directory can be written.
func (d *Dir) Ready(context.Context) error {
	f, err := d.root.OpenFile(".ready", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("blob: %s is not writable: %w", d.path, err)
	}
	f.Close()
	return d.root.Remove(".ready")
}
