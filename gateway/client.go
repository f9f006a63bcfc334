package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/tar"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Client calls a running node's HTTP API: the CLI uses it while a daemon
// holds the repo. Its methods take and return the types of node/api, and
// its errors carry the kind the daemon answered (api.KindOf).
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client of the API at base (http://HOST:PORT) that
// authenticates with token.
func NewClient(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}
}

// BaseURL is the API's address.
func (c *Client) BaseURL() string { return c.base }

// do makes one request and returns the response of a success; an error
// answer becomes an error of its kind.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, api.Wrap(api.KindUnavailable, "timed out", ctx.Err())
		}
		if ctx.Err() != nil { // the caller gave up (Ctrl-C): not the daemon's doing
			return nil, api.Wrap(api.KindUnavailable, "interrupted", ctx.Err())
		}
		return nil, api.Wrap(api.KindUnavailable, fmt.Sprintf("the daemon at %s does not answer", c.base), err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// decodeError turns an API error response back into an *api.Error of the
// same kind.
func decodeError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxJSONBody))
	var body errorBody
	if err := json.Unmarshal(data, &body); err != nil || body.Error.Kind == "" {
		kind := api.KindInternal
		switch resp.StatusCode {
		case http.StatusNotFound:
			kind = api.KindNotFound
		case http.StatusBadRequest:
			kind = api.KindInvalid
		}
		return api.Errorf(kind, "%s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	return api.Errorf(body.Error.Kind, "%s", body.Error.Message)
}

// send makes a request with a raw body and decodes the JSON answer into
// out.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	resp, err := c.do(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// call makes a request whose body, if in is not nil, is in as JSON, and
// decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	if in == nil {
		return c.send(ctx, method, path, nil, "", out)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return c.send(ctx, method, path, bytes.NewReader(body), "application/json", out)
}

// ID describes the node.
func (c *Client) ID(ctx context.Context) (api.Identity, error) {
	var id api.Identity
	return id, c.call(ctx, http.MethodGet, "/api/v1/id", nil, &id)
}

// Connect dials a peer by full multiaddr.
func (c *Client) Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error) {
	var out api.ConnectResponse
	return out, c.call(ctx, http.MethodPost, "/api/v1/connect", req, &out)
}

// Peers lists the node's connections.
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var out []api.Peer
	return out, c.call(ctx, http.MethodGet, "/api/v1/peers", nil, &out)
}

// Stat summarises the node.
func (c *Client) Stat(ctx context.Context) (api.Stat, error) {
	var out api.Stat
	return out, c.call(ctx, http.MethodGet, "/api/v1/stat", nil, &out)
}

// Add uploads a local file or folder; progress sees the bytes sent so far.
func (c *Client) Add(ctx context.Context, path string, o api.AddOptions, progress func(int64)) (cid.Cid, error) {
	st, err := os.Stat(path)
	if err != nil {
		return cid.Undef, api.Wrap(api.KindNotFound, "cannot read "+path, err)
	}
	f, err := files.NewSerialFileWithFilter(path, hiddenFilter(o.Hidden), st)
	if err != nil {
		return cid.Undef, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	mfr := files.NewMultiFileReader(files.NewMapDirectory(map[string]files.Node{filepath.Base(path): f}), true, false)
	var body io.Reader = mfr
	if progress != nil {
		body = &countingReader{r: mfr, progress: progress}
	}
	var out api.Added
	if err := c.send(ctx, http.MethodPost, "/api/v1/add?"+addQuery(o).Encode(), body, "multipart/form-data; boundary="+mfr.Boundary(), &out); err != nil {
		return cid.Undef, err
	}
	return api.ParseCID(out.CID)
}

// addQuery is o as the query of POST /api/v1/add.
func addQuery(o api.AddOptions) url.Values {
	q := url.Values{}
	q.Set("cid_version", strconv.Itoa(o.CIDVersion))
	if o.RawLeaves != nil {
		q.Set("raw_leaves", strconv.FormatBool(*o.RawLeaves))
	}
	if o.Chunker != "" {
		q.Set("chunker", o.Chunker)
	}
	if o.Profile != "" {
		q.Set("profile", o.Profile)
	}
	if o.NoPin {
		q.Set("pin", "false")
	}
	if o.Hidden {
		q.Set("hidden", "true")
	}
	return q
}

func hiddenFilter(hidden bool) *files.Filter {
	f, _ := files.NewFilter("", nil, hidden)
	return f
}

// Cat opens a file by CID.
func (c *Client) Cat(ctx context.Context, k cid.Cid) (io.ReadCloser, int64, error) {
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/cat/"+k.String(), nil, "")
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// Size is the UnixFS size of a file or folder.
func (c *Client) Size(ctx context.Context, k cid.Cid) (int64, error) {
	var out api.Size
	return out.Size, c.call(ctx, http.MethodGet, "/api/v1/size/"+k.String(), nil, &out)
}

// Get writes a file or folder to outPath, as a tar stream from the node's
// /ipfs/ gateway; progress sees the bytes received so far.
func (c *Client) Get(ctx context.Context, k cid.Cid, outPath string, progress func(int64)) error {
	resp, err := c.do(ctx, http.MethodGet, "/ipfs/"+k.String()+"?format=tar", nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if progress != nil {
		body = &countingReader{r: resp.Body, progress: progress}
	}
	ex := &tar.Extractor{Path: outPath}
	if err := ex.Extract(body); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	return nil
}

// Pin pins recursively, fetching what is missing.
func (c *Client) Pin(ctx context.Context, k cid.Cid) error {
	return c.call(ctx, http.MethodPost, "/api/v1/pins/"+k.String(), nil, &api.Pins{})
}

// Unpin removes a recursive pin.
func (c *Client) Unpin(ctx context.Context, k cid.Cid) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/pins/"+k.String(), nil, &api.Pins{})
}

// Pins lists the recursive pins.
func (c *Client) Pins(ctx context.Context) ([]cid.Cid, error) {
	var out api.Pins
	if err := c.call(ctx, http.MethodGet, "/api/v1/pins", nil, &out); err != nil {
		return nil, err
	}
	pins := make([]cid.Cid, 0, len(out.Pins))
	for _, p := range out.Pins {
		k, err := cid.Decode(p)
		if err != nil {
			return nil, fmt.Errorf("daemon sent a bad CID %q: %w", p, err)
		}
		pins = append(pins, k)
	}
	return pins, nil
}

// GC removes unpinned blocks and says how many.
func (c *Client) GC(ctx context.Context) (int, error) {
	var out api.GCResult
	return out.Removed, c.call(ctx, http.MethodPost, "/api/v1/gc", nil, &out)
}

// ExportCAR streams the DAG under k into w.
func (c *Client) ExportCAR(ctx context.Context, k cid.Cid, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/car/"+k.String(), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("export %s: the stream broke off: %w", k, err)
	}
	return nil
}

// ImportCAR uploads a CAR stream.
func (c *Client) ImportCAR(ctx context.Context, r io.Reader) (api.CARImport, error) {
	var out api.CARImport
	return out, c.send(ctx, http.MethodPost, "/api/v1/car", r, "application/vnd.ipld.car", &out)
}

type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}
