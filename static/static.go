// Package static embeds the browser's CSS and JavaScript and serves them
// under a URL that changes whenever any of them changes.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"sort"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// version is a digest of every embedded file. Assets live under
// /static/<version>/, so relative ES-module imports keep working and a new
// build is never served from a stale cache.
var version = digest()

func digest() string {
	h := sha256.New()
	names, _ := fs.Glob(files, "*")
	sort.Strings(names)
	for _, n := range names {
		b, _ := files.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Prefix is where assets are served; route it to Handler.
const Prefix = "/static/"

// Path is the URL of an embedded asset.
func Path(name string) string { return Prefix + version + "/" + name }

// Favicon answers /favicon.ico, which browsers and tools ask for whatever
// the page links, with the embedded SVG icon itself: a redirect would cost
// a round trip and could not be cached for long, as the versioned URL moves.
func Favicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := files.ReadFile("favicon.svg")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(b)
	})
}

// Handler serves /static/<version>/<name>. The current version is cached
// forever; any other version is served too (a page from before a deploy)
// but not cached.
func Handler() http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
		if !ok || name == "" || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		if v == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		fileServer.ServeHTTP(w, r2)
	})
}
