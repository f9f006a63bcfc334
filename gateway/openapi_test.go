package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
)

// The tests of this file hold the OpenAPI document (openapi.json) to the
// API the daemon serves: every route is documented, every documented
// operation is served, and the schemas have the fields of the Go types
// the API sends and takes.

// openAPIDoc is the part of an OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                          `json:"openapi"`
	Security   []map[string][]string           `json:"security"`
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas         map[string]schema          `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIOp struct {
	OperationID string                 `json:"operationId"`
	Accounts    string                 `json:"x-lyceum-accounts"`
	ActsAs      bool                   `json:"x-lyceum-acts-as"`
	Security    *[]map[string][]string `json:"security"`
	Parameters  []openAPIParam         `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"responses"`
}

type openAPIParam struct {
	Name    string `json:"name"`
	In      string `json:"in"`
	Example any    `json:"example"`
}

type schema struct {
	Ref        string            `json:"$ref"`
	Type       string            `json:"type"`
	Properties map[string]schema `json:"properties"`
	Required   []string          `json:"required"`
	AllOf      []schema          `json:"allOf"`
}

func loadOpenAPI(t *testing.T, data []byte) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf(`"openapi": %q, want "3.1.0"`, doc.OpenAPI)
	}
	return doc
}

// startDaemon runs a real daemon, offline, on a test repo with the
// fediverse bridge on (gateway.public_url set), HTTP on 127.0.0.1:0.
func startDaemon(t *testing.T) *daemon.Daemon {
	t.Helper()
	path := filepath.Join(t.TempDir(), "repo")
	if err := node.InitRepo(path, node.ProfileTest); err != nil {
		t.Fatal(err)
	}
	repo, err := node.OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := repo.Config()
	cfg.Gateway.PublicURL = "https://lyceum.test"
	repo.SetConfig(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(ln))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("close the daemon: %v", err)
		}
	})
	return d
}

// The daemon serves the document at GET /api/v1/openapi.json, to anyone.
func TestTheOpenAPIDocumentIsServed(t *testing.T) {
	d := startDaemon(t)
	res, err := http.Get(d.URL() + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, gateway.OpenAPI()) {
		t.Fatal("the served document is not the embedded one")
	}
	loadOpenAPI(t, body)
}

// Every route of the JSON API the daemon registers is in the document,
// with the security the route has.
func TestEveryRouteIsDocumented(t *testing.T) {
	d := startDaemon(t)
	doc := loadOpenAPI(t, gateway.OpenAPI())
	routes := d.Gateway().Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			t.Errorf("route %s %s is outside /api/v1/", r.Method, r.Path)
			continue
		}
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, r.Path)
			continue
		}
		if public := op.Security != nil && len(*op.Security) == 0; public == r.Token {
			t.Errorf("%s %s: the document says public=%v, the route needs the token=%v", r.Method, r.Path, public, r.Token)
		}
		if op.Accounts != r.Rule.Accounts() || op.ActsAs != r.Rule.ActsAs {
			t.Errorf("%s %s: the document says accounts %q, acts as=%v; the permission table %q, %v",
				r.Method, r.Path, op.Accounts, op.ActsAs, r.Rule.Accounts(), r.Rule.ActsAs)
		}
	}
}

// memberToken makes a member account on the daemon's node and returns a
// personal API token of it.
func memberToken(t *testing.T, d *daemon.Daemon) string {
	t.Helper()
	ctx := context.Background()
	accounts := d.Node().Accounts()
	if _, err := accounts.CreateAccount(ctx, api.CreateAccountRequest{Username: "mia", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	// Token 1 is the example of DELETE /api/v1/me/tokens/{id}, which
	// revokes it; the calls go on with token 2.
	var tok api.NewToken
	for _, name := range []string{"revoked by the test", "tests"} {
		var err error
		if tok, err = accounts.CreateToken(ctx, "mia", api.CreateTokenRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	return tok.Secret
}

// memberMay reports whether a member's role allows what x-lyceum-accounts
// asks.
func memberMay(accounts string) bool {
	return accounts == "any" || (api.Account{Role: api.RoleMember, Status: api.StatusActive}).Can(api.Action(accounts))
}

// Every operation the document describes is answered by a handler of
// the daemon — a JSON answer or a JSON error, never the router's
// plain-text 404 or 405 — and the bearer token guards exactly the
// operations it says.
func TestEveryDocumentedOperationIsServed(t *testing.T) {
	d := startDaemon(t)
	doc := loadOpenAPI(t, gateway.OpenAPI())
	token := d.Node().Repo().APIToken()
	member := memberToken(t, d)
	for _, scheme := range []string{"apiToken", "personalToken"} {
		if _, ok := doc.Components.SecuritySchemes[scheme]; !ok || len(doc.Security) != 2 {
			t.Fatalf("the document lacks the bearer-token scheme %s in its default security", scheme)
		}
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	n := 0
	for _, path := range paths {
		for method, op := range doc.Paths[path] {
			n++
			t.Run(strings.ToUpper(method)+" "+path, func(t *testing.T) {
				target := d.URL() + fillPath(t, path, op.Parameters)
				public := op.Security != nil && len(*op.Security) == 0
				// Without the token.
				res := call(t, method, target, "", op)
				if public == (res.status == http.StatusUnauthorized) {
					t.Fatalf("without the token: status %d (public=%v)", res.status, public)
				}
				if !public && res.kind != api.KindUnauthorized {
					t.Fatalf("without the token: kind %q, want unauthorized", res.kind)
				}
				// With a member's personal token: refused by role where the
				// document says so, never refused as a token.
				if !public {
					res = call(t, method, target, member, op)
					if res.status == http.StatusUnauthorized || (!memberMay(op.Accounts) && res.kind != api.KindForbidden) {
						t.Fatalf("with a member's token (accounts %q): status %d %s", op.Accounts, res.status, res.body)
					}
				}
				// With it.
				res = call(t, method, target, token, op)
				if res.status == http.StatusUnauthorized {
					t.Fatalf("the token was refused: %s", res.body)
				}
				if res.status >= 300 {
					return // a JSON error of the handler: call checked it
				}
				documented := op.Responses[strconv.Itoa(res.status)].Content
				if _, ok := documented[res.mediaType]; !ok {
					t.Fatalf("status %d with %s, not a documented answer", res.status, res.mediaType)
				}
			})
		}
	}
	if n < 50 {
		t.Fatalf("only %d operations documented", n)
	}
}

// fillPath puts the example of each path parameter into the path.
func fillPath(t *testing.T, path string, params []openAPIParam) string {
	t.Helper()
	for _, p := range params {
		if p.In != "path" {
			continue
		}
		ex, ok := p.Example.(string)
		if !ok || ex == "" {
			t.Fatalf("path parameter %s has no example", p.Name)
		}
		path = strings.ReplaceAll(path, "{"+p.Name+"}", ex)
	}
	if strings.Contains(path, "{") {
		t.Fatalf("%s: a path parameter is not documented", path)
	}
	return path
}

// answer is what a call got back.
type answer struct {
	status    int
	mediaType string
	kind      api.Kind
	body      []byte
}

// call makes one request with an empty JSON object as its body when the
// operation takes one, and checks that a handler answered: JSON, or one
// of the raw media types an operation streams; an error is always the
// JSON error of the API.
func call(t *testing.T, method, target, token string, op openAPIOp) answer {
	t.Helper()
	var body io.Reader
	contentType := ""
	if op.RequestBody != nil {
		body, contentType = strings.NewReader("{}"), "application/json"
		if _, ok := op.RequestBody.Content["application/json"]; !ok {
			for ct := range op.RequestBody.Content {
				contentType = ct
			}
		}
	}
	req, err := http.NewRequest(strings.ToUpper(method), target, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	a := answer{status: res.StatusCode, mediaType: mt, body: data}
	if res.StatusCode >= 300 {
		var e struct {
			Error struct {
				Kind    api.Kind `json:"kind"`
				Message string   `json:"message"`
			} `json:"error"`
		}
		if mt != "application/json" || json.Unmarshal(data, &e) != nil || e.Error.Kind == "" || e.Error.Message == "" {
			t.Fatalf("status %d is not an API error (the router's own answer?): %s %q", res.StatusCode, mt, data)
		}
		a.kind = e.Error.Kind
		return a
	}
	if mt == "application/json" && !json.Valid(data) {
		t.Fatalf("status %d: not JSON: %q", res.StatusCode, data)
	}
	return a
}

// The document's schemas have exactly the JSON fields of the Go types
// that the API sends and takes, and require those that are always sent.
func TestSchemasMatchTheGoTypes(t *testing.T) {
	doc := loadOpenAPI(t, gateway.OpenAPI())
	types := map[string]any{
		"Identity": api.Identity{}, "Peer": api.Peer{}, "ConnectRequest": api.ConnectRequest{}, "ConnectResponse": api.ConnectResponse{},
		"Added": api.Added{}, "Size": api.Size{}, "Pins": api.Pins{}, "GCResult": api.GCResult{}, "DoctorReport": api.DoctorReport{}, "DoctorCheck": api.DoctorCheck{}, "CARImport": api.CARImport{}, "Stat": api.Stat{},
		"Actor": api.Actor{}, "CreateActorRequest": api.CreateActorRequest{}, "PublishRequest": api.PublishRequest{}, "Published": api.Published{},
		"File": api.File{}, "Creator": api.Creator{}, "Resource": api.Resource{}, "FeedItem": api.FeedItem{}, "ResourceView": api.ResourceView{},
		"FollowRequest": api.FollowRequest{}, "Unfollowed": gateway.Unfollowed{}, "LikeRequest": api.LikeRequest{}, "LikeResponse": api.LikeResponse{},
		"BlockRequest": api.BlockRequest{}, "Rebuilt": api.Rebuilt{}, "CollectionRequest": api.CollectionRequest{},
		"CollectionItemRequest": api.CollectionItemRequest{}, "Collection": api.Collection{}, "CollectionItem": api.CollectionItem{},
		"CollectionView": api.CollectionView{}, "CollectionResult": api.CollectionResult{}, "SearchHit": api.SearchHit{},
		"FacetCount": api.FacetCount{}, "SearchResult": api.SearchResult{}, "DelistRequest": api.DelistRequest{},
		"RemoteActor": fediverse.RemoteActor{}, "FediverseFollowRequest": fediverse.FollowRequest{}, "Interaction": fediverse.Interaction{},
		"Flag": fediverse.Flag{}, "ActionRequest": fediverse.ActionRequest{}, "Done": fediverse.Done{}, "Replied": fediverse.Replied{},
		"Locked":  fediverse.Locked{},
		"Account": api.Account{}, "CreateAccountRequest": api.CreateAccountRequest{}, "CreateTokenRequest": api.CreateTokenRequest{},
		"Token": api.Token{}, "NewToken": api.NewToken{}, "InvitationRequest": api.InvitationRequest{}, "Invitation": api.Invitation{},
		"NewInvitation": api.NewInvitation{}, "RoleRequest": gateway.RoleRequest{}, "PasswordReset": gateway.PasswordReset{},
		"RegistrationSetting": gateway.RegistrationSetting{}, "Rejected": gateway.Rejected{}, "Revoked": gateway.Revoked{},
		"DraftRequest": api.DraftRequest{}, "Draft": api.Draft{}, "DraftDeleted": gateway.DraftDeleted{},
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		props, required := flatten(t, doc, s)
		fields, always := jsonFields(reflect.TypeOf(v))
		if !slices.Equal(props, fields) {
			t.Errorf("%s: schema properties %v, Go fields %v", name, props, fields)
		}
		if !slices.Equal(required, always) {
			t.Errorf("%s: schema requires %v, Go always sends %v", name, required, always)
		}
	}
}

// flatten gives the sorted property names and required names of an
// object schema, through allOf and $ref.
func flatten(t *testing.T, doc openAPIDoc, s schema) (props, required []string) {
	t.Helper()
	if s.Ref != "" {
		s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	for p := range s.Properties {
		props = append(props, p)
	}
	required = append(required, s.Required...)
	for _, part := range s.AllOf {
		p, r := flatten(t, doc, part)
		props, required = append(props, p...), append(required, r...)
	}
	sort.Strings(props)
	sort.Strings(required)
	return props, required
}

// jsonFields gives the sorted JSON names of a struct's fields (embedded
// structs flattened, "-" left out) and those sent whatever their value
// (no omitempty or omitzero).
func jsonFields(typ reflect.Type) (fields, always []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			fs, as := jsonFields(f.Type)
			fields, always = append(fields, fs...), append(always, as...)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	sort.Strings(fields)
	sort.Strings(always)
	return fields, always
}
