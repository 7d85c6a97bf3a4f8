package recorder

import "golang.org/x/sys/unix"

// freeSpace is how many bytes an unprivileged writer may still write to
// the filesystem holding dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// SpoolFree is how many bytes recordings may still write to the spool's
// disk (for metrics; a recording starts only above CLASSMEET_SPOOL_MIN_FREE).
func (r *Recorder) SpoolFree() (int64, error) { return freeSpace(r.spoolDir) }
