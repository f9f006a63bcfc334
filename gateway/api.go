package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node"
)

// MaxJSONBody bounds the JSON bodies the API reads.
const MaxJSONBody = 64 << 10

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /api/v1/id", s.requireToken(s.apiID))
	s.mux.HandleFunc("POST /api/v1/connect", s.requireToken(s.apiConnect))
	s.mux.HandleFunc("GET /api/v1/peers", s.requireToken(s.apiPeers))
	s.mux.HandleFunc("POST /api/v1/add", s.requireToken(s.apiAdd))
	s.mux.HandleFunc("GET /api/v1/cat/{cid}", s.requireToken(s.apiCat))
	s.mux.HandleFunc("GET /api/v1/size/{cid}", s.requireToken(s.apiSize))
	s.mux.HandleFunc("GET /api/v1/pins", s.requireToken(s.apiPins))
	s.mux.HandleFunc("POST /api/v1/pins/{cid}", s.requireToken(s.apiPin))
	s.mux.HandleFunc("DELETE /api/v1/pins/{cid}", s.requireToken(s.apiUnpin))
	s.mux.HandleFunc("POST /api/v1/gc", s.requireToken(s.apiGC))
	s.mux.HandleFunc("GET /api/v1/car/{cid}", s.requireToken(s.apiExportCAR))
	s.mux.HandleFunc("POST /api/v1/car", s.requireToken(s.apiImportCAR))
	s.mux.HandleFunc("GET /api/v1/stat", s.requireToken(s.apiStat))
}

func (s *Server) apiID(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.network.ID())
}

// ConnectRequest is the body of POST /api/v1/connect.
type ConnectRequest struct {
	Addr string `json:"addr"`
}

// ConnectResponse answers POST /api/v1/connect.
type ConnectResponse struct {
	PeerID string `json:"peer_id"`
}

func (s *Server) apiConnect(w http.ResponseWriter, r *http.Request) {
	var req ConnectRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.network.Connect(r.Context(), req.Addr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ConnectResponse{PeerID: id})
}

func (s *Server) apiPeers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.network.Peers())
}

// AddResponse answers POST /api/v1/add.
type AddResponse struct {
	Name  string `json:"name"`
	CID   string `json:"cid"`
	Bytes int64  `json:"bytes"`
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
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: "add wants a multipart/form-data upload"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: "add: bad multipart upload", Err: err})
		return
	}
	dir, err := files.NewFileFromPartReader(mr, mediatype)
	if err != nil {
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: "add: bad multipart upload", Err: err})
		return
	}
	it := dir.Entries()
	if !it.Next() {
		msg := "add: the upload holds no file"
		if it.Err() != nil {
			msg = "add: bad multipart upload: " + it.Err().Error()
		}
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: msg})
		return
	}
	var total int64
	c, err := s.content.AddFiles(r.Context(), it.Name(), markUpload(it.Node()), opts, func(n int64) { total = n })
	if err != nil {
		s.fail(w, r, classifyUpload(err))
		return
	}
	if it.Next() || it.Err() != nil {
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: "add: send one file or folder per upload"})
		return
	}
	writeJSON(w, http.StatusOK, AddResponse{Name: it.Name(), CID: c.String(), Bytes: total})
}

func addOptionsFromQuery(r *http.Request) (node.AddOptions, error) {
	q := r.URL.Query()
	var o node.AddOptions
	if v := q.Get("cid_version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, &node.Error{Kind: node.KindInvalid, Msg: fmt.Sprintf("cid_version %q is not a number", v)}
		}
		o.CIDVersion = n
	}
	if v := q.Get("raw_leaves"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, &node.Error{Kind: node.KindInvalid, Msg: fmt.Sprintf("raw_leaves %q is not true or false", v)}
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
	c, err := node.ParseCID(r.PathValue("cid"))
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
	f, size, err := s.content.Cat(r.Context(), c)
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

// SizeResponse answers GET /api/v1/size/{cid}.
type SizeResponse struct {
	CID  string `json:"cid"`
	Size int64  `json:"size"`
}

func (s *Server) apiSize(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	size, err := s.content.Size(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SizeResponse{CID: c.String(), Size: size})
}

// PinsResponse answers GET /api/v1/pins and the pin calls.
type PinsResponse struct {
	Pins []string `json:"pins"`
}

func (s *Server) apiPins(w http.ResponseWriter, r *http.Request) {
	pins, err := s.content.Pins(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := PinsResponse{Pins: []string{}}
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
	if err := s.content.Pin(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PinsResponse{Pins: []string{c.String()}})
}

func (s *Server) apiUnpin(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	if err := s.content.Unpin(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PinsResponse{Pins: []string{c.String()}})
}

// GCResponse answers POST /api/v1/gc.
type GCResponse struct {
	Removed int `json:"removed"`
}

func (s *Server) apiGC(w http.ResponseWriter, r *http.Request) {
	n, err := s.content.GC(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GCResponse{Removed: n})
}

func (s *Server) apiExportCAR(w http.ResponseWriter, r *http.Request) {
	c, ok := s.pathCID(w, r)
	if !ok {
		return
	}
	// Check the root first, so that a missing CID is a clean 404 and not a
	// broken stream.
	if _, err := s.content.Size(r.Context(), c); err != nil && node.KindOf(err) == node.KindNotFound {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
	if err := s.content.ExportCAR(r.Context(), c, w); err != nil {
		// Headers are gone: cut the stream so that the client sees a
		// truncated CAR rather than a complete-looking one.
		s.log.Warn("CAR export failed", "cid", c, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) apiImportCAR(w http.ResponseWriter, r *http.Request) {
	res, err := s.content.ImportCAR(r.Context(), http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes))
	if err != nil {
		s.fail(w, r, classifyUpload(err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiStat(w http.ResponseWriter, r *http.Request) {
	st, err := s.content.Stat(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// readJSON decodes a request body of at most MaxJSONBody bytes holding
// one JSON value and nothing else, with no unknown fields.
func readJSON(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return &node.Error{Kind: node.KindInvalid, Msg: "could not read the request body", Err: err}
	}
	if len(data) > MaxJSONBody {
		return &node.Error{Kind: node.KindInvalid, Msg: fmt.Sprintf("the JSON body is larger than %d bytes", MaxJSONBody)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &node.Error{Kind: node.KindInvalid, Msg: "bad JSON body: " + err.Error(), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &node.Error{Kind: node.KindInvalid, Msg: "bad JSON body: something follows the JSON value"}
	}
	return nil
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
	id := s.network.ID()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = homePage.Execute(w, struct{ PeerID string }{id.PeerID})
}
