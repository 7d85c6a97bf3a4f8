// Package pgtest gives each test a database of its own, freshly migrated, in a
// real PostgreSQL cluster: the one `make test` started (CLASSMEET_TEST_PG), or
// one it starts itself with scripts/pg.sh under .data/test-pg.
package pgtest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"classmeet/internal/store"
)

var (
	clusterOnce sync.Once
	clusterURL  string
	clusterErr  error
)

// ClusterURL returns a URL of the test cluster's maintenance database.
func ClusterURL(t testing.TB) string {
	t.Helper()
	clusterOnce.Do(func() {
		if u := os.Getenv("CLASSMEET_TEST_PG"); u != "" {
			clusterURL = u
			return
		}
		root, err := RepoRoot()
		if err != nil {
			clusterErr = err
			return
		}
		out, err := exec.Command(filepath.Join(root, "scripts", "pg.sh"), "start", filepath.Join(root, ".data", "test-pg")).Output()
		if err != nil {
			clusterErr = err
			return
		}
		clusterURL = strings.TrimSpace(string(out))
	})
	if clusterErr != nil {
		t.Fatalf("pgtest: no PostgreSQL cluster: %v", clusterErr)
	}
	return clusterURL
}

// RepoRoot finds the directory holding go.mod, above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// NewDatabase creates an empty database, dropped when the test ends, and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := ClusterURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	name := "test_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: parse %q: %v", admin, err)
	}
	u.Path = "/" + name
	return u.String()
}

// NewStore returns a store on a new, migrated database.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	return OpenStore(t, NewDatabase(t))
}

// OpenStore returns a store on the database at url, migrated; tests that
// also write rows no page writes yet keep the url to connect to it.
func OpenStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, 10)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return st
}

// Cluster is a PostgreSQL cluster of one test's own, which it may stop and
// start (to test outages) without disturbing other tests.
type Cluster struct {
	t   testing.TB
	dir string
	URL string // its "classmeet" database
}

// NewCluster creates and starts a private cluster, destroyed when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir() + "/pg"}
	c.URL = c.pg("start")
	t.Cleanup(func() { c.pg("destroy") })
	return c
}

// Stop stops the cluster (fast shutdown: connections are cut).
func (c *Cluster) Stop() { c.t.Helper(); c.pg("stop") }

// Start starts it again.
func (c *Cluster) Start() { c.t.Helper(); c.pg("start") }

func (c *Cluster) pg(cmd string) string {
	c.t.Helper()
	root, err := RepoRoot()
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "pg.sh"), cmd, c.dir).CombinedOutput()
	if err != nil {
		c.t.Fatalf("pg.sh %s: %v\n%s", cmd, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Store opens a migrated store on the cluster.
func (c *Cluster) Store() *store.Store {
	c.t.Helper()
	st, err := store.Open(context.Background(), c.URL, 10)
	if err != nil {
		c.t.Fatalf("pgtest: open: %v", err)
	}
	c.t.Cleanup(st.Close)
	if err := st.Migrate(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
		c.t.Fatalf("pgtest: migrate: %v", err)
	}
	return st
}
