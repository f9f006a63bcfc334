package pinning_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/gateway/pinning"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/pinsvc"
)

// memContent pins anything at once.
type memContent struct {
	mu   sync.Mutex
	pins map[cid.Cid]bool
}

func (m *memContent) Pin(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pins[c] = true
	return nil
}

func (m *memContent) Unpin(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pins, c)
	return nil
}

func (m *memContent) Pins(context.Context) ([]cid.Cid, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []cid.Cid
	for c := range m.pins {
		out = append(out, c)
	}
	return out, nil
}

type loopSwarm struct{}

func (loopSwarm) Connect(context.Context, api.ConnectRequest) (api.ConnectResponse, error) {
	return api.ConnectResponse{}, fmt.Errorf("no network in this test")
}

func (loopSwarm) ID() api.Identity {
	return api.Identity{PeerID: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", Addrs: []string{"/ip4/127.0.0.1/tcp/4101"}}
}

// tokens authenticates "t-ada" as ada and "t-bob" as bob.
type tokens struct{}

func (tokens) AuthenticatePinning(_ context.Context, token string) (api.Account, error) {
	if u, ok := strings.CutPrefix(token, "t-"); ok && (u == "ada" || u == "bob") {
		return api.Account{Username: u, Status: api.StatusActive}, nil
	}
	return api.Account{}, api.Errorf(api.KindUnauthorized, "bad token")
}

// startAPI serves the API over a real pinsvc store, its pins made at once.
func startAPI(t *testing.T) string {
	t.Helper()
	svc, err := pinsvc.Open(filepath.Join(t.TempDir(), "pinning.db"), &memContent{pins: map[cid.Cid]bool{}}, loopSwarm{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	h, err := pinning.New(svc, tokens{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); cancel(); <-done; _ = svc.Close() })
	return srv.URL + pinning.DefaultPrefix
}

// spec is the spec's OpenAPI document (testdata: the YAML of
// ipfs/pinning-services-api-spec converted to JSON).
type spec struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]map[string]any `json:"schemas"`
		Parameters map[string]map[string]any `json:"parameters"`
	} `json:"components"`
}

// specEnv names the spec's OpenAPI document as JSON. It is not kept in
// this repository (it is another project's file): convert
// ipfs-pinning-service.yaml of ipfs/pinning-services-api-spec to JSON
// and point LYCEUM_PINNING_SPEC at it to run the walk. Kubo's own client
// is run against the server in node/daemon's TestKuboPinsToALyceumNode.
const specEnv = "LYCEUM_PINNING_SPEC"

func loadSpec(t *testing.T) spec {
	t.Helper()
	path := os.Getenv(specEnv)
	if path == "" {
		t.Skipf("set %s to the spec's OpenAPI document as JSON to walk it", specEnv)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// validate checks v against schema (the subset the spec uses: $ref,
// type, required, properties, additionalProperties, enum, items,
// maxItems, minItems, maxLength, format date-time).
func (s spec) validate(schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		return s.validate(s.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")], v, at)
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch schema["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", at)
		}
		for _, r := range asList(schema["required"]) {
			if _, ok := m[r.(string)]; !ok {
				return fmt.Errorf("%s: no %s", at, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, pv := range m {
			if ps, ok := props[k].(map[string]any); ok {
				if err := s.validate(ps, pv, at+"."+k); err != nil {
					return err
				}
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				if err := s.validate(ap, pv, at+"."+k); err != nil {
					return err
				}
			} else {
				return fmt.Errorf("%s: property %s is not in the spec", at, k)
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		if n, ok := schema["maxItems"].(float64); ok && float64(len(l)) > n {
			return fmt.Errorf("%s: %d items, at most %v", at, len(l), n)
		}
		if n, ok := schema["minItems"].(float64); ok && float64(len(l)) < n {
			return fmt.Errorf("%s: %d items, at least %v", at, len(l), n)
		}
		items, _ := schema["items"].(map[string]any)
		for i, it := range l {
			if err := s.validate(items, it, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if n, ok := schema["maxLength"].(float64); ok && float64(len(str)) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: not an integer", at)
		}
	}
	return nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

// call sends one request and returns the status and the decoded body.
func call(t *testing.T, method, u, token string, body string) (int, any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: HTTP %d, not JSON: %s", method, u, res.StatusCode, data)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", method, u, ct)
		}
	}
	return res.StatusCode, v
}

// The server answers every operation of the spec's OpenAPI document with
// a status the spec lists and a body of the schema it names; a request
// without a token, a bad one, and another account's request id get the
// spec's Failure; every query parameter's example is answered 200 or a
// Failure 400.
func TestTheServerAnswersEveryOperationOfTheSpec(t *testing.T) {
	s := loadSpec(t)
	base := startAPI(t)
	h, _ := multihash.Sum([]byte("walk the spec"), multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.Raw, h).String()
	pinBody := `{"cid":"` + c + `","name":"PreciousData.pdf","origins":["/ip4/203.0.113.142/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"],"meta":{"app_id":"99986338-1113-4706-8302-4420da6158aa"}}`
	_, v := call(t, http.MethodPost, base+"/pins", "t-ada", pinBody)
	id := v.(map[string]any)["requestid"].(string)
	failure := map[string]any{"$ref": "#/components/schemas/Failure"}

	type op struct{ path, method string }
	var ops []op
	for path, methods := range s.Paths {
		for m := range methods {
			if m != "parameters" {
				ops = append(ops, op{path, strings.ToUpper(m)})
			}
		}
	}
	slices.SortFunc(ops, func(a, b op) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	if len(ops) != 5 {
		t.Fatalf("the spec has %d operations, want 5", len(ops))
	}
	for _, o := range ops {
		t.Run(o.method+" "+o.path, func(t *testing.T) {
			var raw struct {
				Responses map[string]struct {
					Ref     string `json:"$ref"`
					Content map[string]struct {
						Schema map[string]any `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			_ = json.Unmarshal(s.Paths[o.path][strings.ToLower(o.method)], &raw)
			body := ""
			if o.method == http.MethodPost {
				body = pinBody
			}
			// Each request makes its own request id when it needs one.
			target := id
			if strings.Contains(o.path, "{requestid}") {
				_, v := call(t, http.MethodPost, base+"/pins", "t-ada", pinBody)
				target = v.(map[string]any)["requestid"].(string)
			}
			u := base + strings.ReplaceAll(o.path, "{requestid}", target)
			status, v := call(t, o.method, u, "t-ada", body)
			resp, ok := raw.Responses[fmt.Sprint(status)]
			if !ok || status >= 300 {
				t.Fatalf("HTTP %d, not a success the spec lists: %v", status, v)
			}
			if ct, ok := resp.Content["application/json"]; ok {
				if err := s.validate(ct.Schema, v, "body"); err != nil {
					t.Fatal(err)
				}
			} else if v != nil {
				t.Fatalf("HTTP %d with a body the spec does not have: %v", status, v)
			}
			for _, bad := range []struct {
				token string
				want  int
			}{{"", 401}, {"t-nobody", 401}, {"t-bob", 404}} {
				if bad.want == 404 && !strings.Contains(o.path, "{requestid}") {
					continue
				}
				status, v := call(t, o.method, u, bad.token, body)
				if status != bad.want {
					t.Fatalf("token %q: HTTP %d, want %d", bad.token, status, bad.want)
				}
				if err := s.validate(failure, v, "failure"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	t.Run("every query parameter's example", func(t *testing.T) {
		for name, p := range s.Components.Parameters {
			ex, ok := p["example"]
			if !ok {
				continue
			}
			var val string
			switch e := ex.(type) {
			case []any:
				parts := make([]string, len(e))
				for i, x := range e {
					parts[i] = fmt.Sprint(x)
				}
				val = strings.Join(parts, ",")
			default:
				val = fmt.Sprint(e)
			}
			status, v := call(t, http.MethodGet, base+"/pins?"+url.Values{name: {val}}.Encode(), "t-ada", "")
			switch status {
			case 200:
				if err := s.validate(map[string]any{"$ref": "#/components/schemas/PinResults"}, v, name); err != nil {
					t.Error(err)
				}
			case 400:
				if err := s.validate(failure, v, name); err != nil {
					t.Error(err)
				}
			default:
				t.Errorf("%s=%s: HTTP %d", name, val, status)
			}
		}
	})
}
