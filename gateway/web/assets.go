package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// templateFS holds the pages; staticFS the stylesheet, scripts and
// images; i18nFS the message catalogs.
var (
	//go:embed templates
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
	//go:embed i18n
	i18nFS embed.FS
)

// assets serves the embedded static files under fingerprinted names
// (/assets/app.3f2a1b9c.css): a browser keeps each for a year, and a new
// binary changes the names of the files it changed.
type assets struct {
	byURL  map[string]asset  // /assets/app.3f2a1b9c.css → file
	byName map[string]string // app.css → /assets/app.3f2a1b9c.css
}

type asset struct {
	body  []byte
	ctype string
}

// loadAssets reads and fingerprints every file of static/.
func loadAssets() (*assets, error) {
	as := &assets{byURL: map[string]asset{}, byName: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		u := "/assets/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		as.byURL[u] = asset{body: body, ctype: ctype}
		as.byName[name] = u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return as, nil
}

// url is the fingerprinted URL of a static file; a missing one is a
// programming error caught by the tests.
func (as *assets) url(name string) (string, error) {
	u, ok := as.byName[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return u, nil
}

// ServeHTTP serves one asset, cached for a year.
func (as *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := as.byURL[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
