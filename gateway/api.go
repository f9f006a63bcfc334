package gateway

import (
	"html/template"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// nodeRoutes are the calls about the node itself: identity, peers, stat.
func (s *Server) nodeRoutes() {
	s.handle(http.MethodGet, "/api/v1/id", s.apiID)
	if s.svc.Swarm != nil {
		s.handle(http.MethodPost, "/api/v1/connect", withBody(s, s.apiConnect))
		s.handle(http.MethodGet, "/api/v1/peers", s.apiPeers)
	}
	if s.svc.Stat != nil {
		s.handle(http.MethodGet, "/api/v1/stat", s.apiStat)
	}
	if s.svc.Backup != nil {
		s.handle(http.MethodPost, "/api/v1/backup", s.apiBackup)
	}
	if s.svc.Doctor != nil {
		s.handle(http.MethodGet, "/api/v1/doctor", s.apiDoctor)
	}
}

// contentRoutes are the calls of the content store: add, cat, pins, gc,
// CAR.
func (s *Server) contentRoutes() {
	if s.svc.Adder != nil {
		s.handle(http.MethodPost, "/api/v1/add", s.apiAdd)
	}
	if s.svc.Catter != nil {
		s.handle(http.MethodGet, "/api/v1/cat/{cid}", s.apiCat)
		s.handle(http.MethodGet, "/api/v1/size/{cid}", s.apiSize)
	}
	if s.svc.Pinner != nil {
		s.handle(http.MethodGet, "/api/v1/pins", s.apiPins)
		s.handle(http.MethodPost, "/api/v1/pins/{cid}", s.apiPin)
		s.handle(http.MethodDelete, "/api/v1/pins/{cid}", s.apiUnpin)
	}
	if s.svc.Collector != nil {
		s.handle(http.MethodPost, "/api/v1/gc", s.apiGC)
	}
	if s.svc.CARs != nil {
		s.handle(http.MethodGet, "/api/v1/car/{cid}", s.apiExportCAR)
		s.handle(http.MethodPost, "/api/v1/car", s.apiImportCAR)
	}
}

func (s *Server) apiID(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Identity.ID())
}

func (s *Server) apiConnect(w http.ResponseWriter, r *http.Request, req api.ConnectRequest) {
	res, err := s.svc.Swarm.Connect(r.Context(), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiPeers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, orEmpty(s.svc.Swarm.Peers()))
}

func (s *Server) apiStat(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Stat.Stat(r.Context())
	s.answer(w, r, st, err)
}

// apiAdd imports a multipart upload in the format Kubo's `ipfs add` sends
// (boxo's files.MultiFileReader): one top-level file or folder.
func (s *Server) apiAdd(w http.ResponseWriter, r *http.Request) {
	opts, err := addOptionsFromQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mediatype, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediatype != "multipart/form-data" && mediatype != "multipart/mixed") {
		s.fail(w, r, api.Invalidf("add wants a multipart/form-data upload"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.fail(w, r, api.Wrap(api.KindInvalid, "add: bad multipart upload", err))
		return
	}
	dir, err := files.NewFileFromPartReader(mr, mediatype)
	if err != nil {
		s.fail(w, r, api.Wrap(api.KindInvalid, "add: bad multipart upload", err))
		return
	}
	it := dir.Entries()
	if !it.Next() {
		msg := "add: the upload holds no file"
		if it.Err() != nil {
			msg = "add: bad multipart upload: " + it.Err().Error()
		}
		s.fail(w, r, api.Invalidf("%s", msg))
		return
	}
	var total int64
	c, err := s.svc.Adder.Add(r.Context(), it.Name(), markUpload(it.Node()), opts, func(n int64) { total = n })
	if err != nil {
		s.fail(w, r, classifyUpload(err))
		return
	}
	if it.Next() || it.Err() != nil {
		s.fail(w, r, api.Invalidf("add: send one file or folder per upload"))
		return
	}
	writeJSON(w, http.StatusOK, api.Added{Name: it.Name(), CID: c.String(), Bytes: total})
}

func addOptionsFromQuery(r *http.Request) (api.AddOptions, error) {
	q := r.URL.Query()
	var o api.AddOptions
	if v := q.Get("cid_version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, api.Invalidf("cid_version %s is not a number", api.Quote(v))
		}
		o.CIDVersion = n
	}
	if v := q.Get("raw_leaves"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, api.Invalidf("raw_leaves %s is not true or false", api.Quote(v))
		}
		o.RawLeaves = &b
	}
	o.Chunker = q.Get("chunker")
	o.Profile = q.Get("profile")
	o.NoPin = q.Get("pin") == "false"
	o.Hidden = q.Get("hidden") == "true"
	return o, nil
}

func (s *Server) pathCID(w http.ResponseWriter, r *http.Request) (cid.Cid, bool) {
	c, err := api.ParseCID(r.PathValue("cid"))
	if err != nil {
		s.fail(w, r, err)
		return cid.Undef, false
	}
	return c, true
}

func (s *Server) apiCat(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	f, size, err := s.svc.Catter.Cat(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if _, err := io.Copy(w, f); err != nil {
		s.log.Debug("cat interrupted", "cid", c, "err", err)
	}
}

func (s *Server) apiSize(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	size, err := s.svc.Catter.Size(r.Context(), c)
	s.answer(w, r, api.Size{CID: c.String(), Size: size}, err)
}

func (s *Server) apiPins(w http.ResponseWriter, r *http.Request) {
	pins, err := s.svc.Pinner.Pins(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.Pins{Pins: make([]string, 0, len(pins))}
	for _, p := range pins {
		out.Pins = append(out.Pins, p.String())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiPin(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	s.answer(w, r, api.Pins{Pins: []string{c.String()}}, s.svc.Pinner.Pin(r.Context(), c))
}

func (s *Server) apiUnpin(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	s.answer(w, r, api.Pins{Pins: []string{c.String()}}, s.svc.Pinner.Unpin(r.Context(), c))
}

func (s *Server) apiGC(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.Collector.GC(r.Context())
	s.answer(w, r, api.GCResult{Removed: n}, err)
}

func (s *Server) apiExportCAR(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	// Check the root first, so that a missing CID is a clean 404 and not a
	// broken stream.
	if s.svc.Catter != nil {
		if _, err := s.svc.Catter.Size(r.Context(), c); err != nil && api.KindOf(err) == api.KindNotFound {
			s.fail(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
	if err := s.svc.CARs.ExportCAR(r.Context(), c, w); err != nil {
		// Headers are gone: cut the stream so that the client sees a
		// truncated CAR rather than a complete-looking one.
		s.log.Warn("CAR export failed", "cid", c, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) apiImportCAR(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.CARs.ImportCAR(r.Context(), http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes))
	if err != nil {
		s.fail(w, r, classifyUpload(err))
		return
	}
	res.Roots = orEmpty(res.Roots)
	writeJSON(w, http.StatusOK, res)
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lyceum node</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px;word-break:break-all}</style>
</head><body>
<h1>Lyceum node</h1>
<p>This node shares open educational resources over IPFS.</p>
<p>Peer ID: <code>{{.PeerID}}</code></p>
<p>Open any resource by its CID at <code>/ipfs/&lt;CID&gt;</code>.</p>
</body></html>
`))

// home is the placeholder front page until the web UI exists.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	id := s.svc.Identity.ID()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = homePage.Execute(w, struct{ PeerID string }{id.PeerID})
}
