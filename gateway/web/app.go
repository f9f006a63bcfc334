package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Config is the web app's plain-data configuration.
type Config struct {
	// PublicURL is the node's public base URL, if any: with https, cookies
	// are Secure even behind a TLS proxy.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// MaxUploadBytes bounds one upload from the publish page; 0 = 16 GiB.
	MaxUploadBytes int64
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// App is the web app.
type App struct {
	cfg      Config
	svc      Services
	log      *slog.Logger
	pages    *pageSet
	assets   *assets
	i18n     *catalogs
	features features
	fetches  chan struct{} // the fetches of unknown resources and people running now
}

// features say which parts of the app the node's services allow, for the
// templates to show only the links that lead somewhere.
type features struct {
	Register, Search, Publish, People, Collections, Admin, Settings bool
}

// New builds the web app over the node's services.
func New(cfg Config, svc Services) (*App, error) {
	if svc.Identity == nil || svc.Sessions == nil {
		return nil, errors.New("web: no Identity or Sessions service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = 16 << 30
	}
	a := &App{cfg: cfg, svc: svc, log: cfg.Logger.With("component", "web"), features: features{
		Register: svc.Registration != nil, Search: svc.Searcher != nil, Publish: svc.Resources != nil && svc.Files != nil,
		People: svc.People != nil, Collections: svc.Collections != nil, Admin: svc.Admin != nil, Settings: svc.Settings != nil,
	}, fetches: make(chan struct{}, maxFetches)}
	var err error
	if a.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if a.i18n, err = loadCatalogs(); err != nil {
		return nil, err
	}
	// Every page is parsed once here, so that a broken template stops the
	// node at start; then dropped: parsed, the pages of both languages
	// held 11 MiB of template trees in an idle daemon. A page is parsed
	// again, and kept, when first shown.
	a.pages = &pageSet{layouts: map[string]*template.Template{}, parsed: map[string]*template.Template{}, names: map[string]bool{}}
	for _, lang := range supported {
		pages, err := a.parsePages(lang)
		if err != nil {
			return nil, err
		}
		for name := range pages {
			a.pages.names[name] = true
		}
		if a.pages.layouts[lang], err = a.parseLayout(lang); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Register adds the app's pages and assets to mux: "/" and everything
// below it that no other surface serves.
func (a *App) Register(mux *http.ServeMux) {
	mux.Handle("GET /assets/", a.assets)
	mux.HandleFunc("GET /login", a.page(a.loginForm))
	mux.HandleFunc("POST /login", a.page(a.login))
	mux.HandleFunc("POST /logout", a.page(a.logout))
	if a.svc.Setup != nil {
		mux.HandleFunc("GET /setup", a.page(a.setupForm))
		mux.HandleFunc("POST /setup", a.page(a.setup))
	}
	if a.svc.Registration != nil {
		mux.HandleFunc("GET /register", a.page(a.registerForm))
		mux.HandleFunc("POST /register", a.page(a.register))
	}
	mux.HandleFunc("POST /language", a.page(a.setLanguage))
	a.contentRoutes(mux)
	a.accountRoutes(mux)
}

// IsUpload reports whether r is one of the app's long uploads (the
// publish page's file), whose body deadline moves with its progress.
func (a *App) IsUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, "/api/") &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// pageSet holds the pages shown so far, parsed with their layout, by
// language and page.
type pageSet struct {
	layouts map[string]*template.Template // lang → the layout and its parts, never executed
	names   map[string]bool               // the pages there are
	mu      sync.Mutex
	parsed  map[string]*template.Template // lang + "/" + page → the page in its layout
}

// page returns the page in lang, parsing it when first asked for.
func (ps *pageSet) page(lang, name string) (*template.Template, error) {
	if !ps.names[name] {
		return nil, fmt.Errorf("web: no page %q", name)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	key := lang + "/" + name
	if t, ok := ps.parsed[key]; ok {
		return t, nil
	}
	layout, ok := ps.layouts[lang]
	if !ok {
		return nil, fmt.Errorf("web: no language %q", lang)
	}
	t, err := parsePage(layout, "templates/"+name+".html")
	if err != nil {
		return nil, err
	}
	ps.parsed[key] = t
	return t, nil
}

// parseLayout parses the layout and its parts with the template functions
// of one language.
func (a *App) parseLayout(lang string) (*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(a.funcs(lang)).ParseFS(templateFS, "templates/layout.html", "templates/parts/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	return layout, nil
}

// parsePage parses one page file into a copy of layout.
func parsePage(layout *template.Template, file string) (*template.Template, error) {
	c, err := layout.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: %s: %w", file, err)
	}
	t, err := c.ParseFS(templateFS, file)
	if err != nil {
		return nil, fmt.Errorf("web: %s: %w", strings.TrimPrefix(file, "templates/"), err)
	}
	return t, nil
}

// parsePages parses each page with the layout it is shown in, with the
// template functions of one language.
func (a *App) parsePages(lang string) (map[string]*template.Template, error) {
	layout, err := a.parseLayout(lang)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		page := strings.TrimPrefix(name, "templates/")
		if page == "layout.html" {
			continue
		}
		t, err := parsePage(layout, name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(page, ".html")] = t
	}
	return pages, nil
}

// view is what every page shows besides its own data.
type view struct {
	Lang    string       // interface language: en or fr
	Account *api.Account // nil when nobody is signed in
	CSRF    string       // the token every form carries
	Path    string       // the page's path, for the language switch and sign-in links
	Title   string       // the page's title, already translated
	Node    api.Identity
	Notice  string // a message shown once at the top (already translated)
	Data    any    // the page's own
	// Services say which parts of the app exist on this node.
	Services features
}

// response is what a page handler produces: a page to render, or a
// redirect.
type response struct {
	page  string // template, without .html
	title string // message key of the title
	// name, when set, is the title itself (a resource's, a person's),
	// shown before the translated title.
	name     string
	status   int // 0 = 200
	data     any
	redirect string
	// formAction, when set, is an origin the page's forms may post to
	// besides the node (the consent page's Moodle, Send to Moodle's site).
	formAction string
}

// handler is a page's handler: it reads the request and the visitor, and
// says what to show.
type handler func(r *http.Request, v *visitor) (response, error)

// page adapts a handler: it loads the visitor (session, language, CSRF),
// checks the CSRF token of every POST, runs the handler, and renders its
// answer or its error as a page.
func (a *App) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setHeaders(w)
		v := a.visit(w, r)
		if r.Method == http.MethodPost && !v.checkCSRF(r) {
			a.renderError(w, r, v, api.Errorf(api.KindForbidden, "%s", v.t("error.csrf")))
			return
		}
		res, err := h(r, v)
		if err != nil {
			a.renderError(w, r, v, err)
			return
		}
		if res.redirect != "" {
			http.Redirect(w, r, res.redirect, http.StatusSeeOther)
			return
		}
		a.render(w, r, v, res)
	}
}

// render writes a page: rendered in full into a buffer first, so that a
// template error is a clean 500 and not half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, v *visitor, res response) {
	t, err := a.pages.page(v.lang, res.page)
	if err != nil {
		a.renderError(w, r, v, err)
		return
	}
	var buf bytes.Buffer
	data := v.view(r, res)
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		a.log.Error("render", "page", res.page, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if res.formAction != "" {
		w.Header().Set("Content-Security-Policy", csp("'self' "+res.formAction))
	}
	if res.status != 0 {
		w.WriteHeader(res.status)
	}
	_, _ = buf.WriteTo(w)
}

// errorView is the data of the error page.
type errorView struct {
	Status  int
	Message string
}

// renderError shows err as a page: its public message (never the node's
// internals) and the status of its kind.
func (a *App) renderError(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	status := api.KindOf(err).HTTPStatus()
	msg := api.PublicMessage(err)
	if status == http.StatusInternalServerError {
		a.log.Error("page failed", "path", r.URL.Path, "err", err)
		msg = v.t("error.internal")
	}
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	a.render(w, r, v, response{page: "error", title: "error.title", status: status, data: errorView{Status: status, Message: msg}})
}

// setHeaders sets the security headers of every page: a Content-Security-
// Policy that allows no inline script and nothing from elsewhere, and no
// framing by other sites.
func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp("'self'"))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// csp is the pages' Content-Security-Policy with the form-action sources
// given.
func csp(formAction string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
		"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'self'"
}

// client is what rate limits count the visitor by.
func (a *App) client(r *http.Request) string { return clientip.Key(r, a.cfg.TrustedProxies) }

// secure reports whether the visitor reached the node over HTTPS (itself,
// or through a trusted proxy, or the node's public URL is https).
func (a *App) secure(r *http.Request) bool {
	if r.TLS != nil || strings.HasPrefix(a.cfg.PublicURL, "https://") {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && clientip.In(ap.Addr().Unmap(), a.cfg.TrustedProxies) && r.Header.Get("X-Forwarded-Proto") == "https"
}

// detached is ctx without its end, for the writes a visitor asked for and
// that should complete even if they leave.
func detached(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
