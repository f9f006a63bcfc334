package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the fakes of the content pages' services: one
// in-memory node (contentNode) that plays Resources, Comments, People,
// Collections, Searcher, Files and Providers, and records what it was
// asked.

// contentCID makes a CID from a string, for resource and file IDs.
func contentCID(s string) string {
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h).String()
}

// The people of the fake node.
const (
	adaDID   = "did:key:z6MkAdaLovelace"
	bobDID   = "did:key:z6MkBobBoole"
	groupDID = "did:key:z6MkMathsGroup"
	farDID   = "did:key:z6MkFarAway"
	testPeer = "12D3KooWtest"
	farPeer  = "12D3KooWfaraway"
)

// contentNode is an in-memory node for the content pages.
type contentNode struct {
	mu         sync.Mutex
	drafts     *fakeDrafts    // nil: no drafts
	fetcher    Fetcher        // nil: none
	pinnedAdds int            // files added with a pin
	items      []api.FeedItem // every live resource's latest version, newest first
	views      map[string]api.ResourceView
	feeds      map[string][]api.FeedItem // by As
	feedAsked  []string                  // the As of every FeedOf
	liked      map[string]bool           // as|id
	comments   map[string][]api.Comment
	profiles   map[string]api.Profile // by username, handle and DID
	cols       map[string]api.CollectionView
	calls      []string
	published  []api.PublishRequest
	updates    []api.PublishRequest
	search     func(api.SearchQuery) (api.SearchResult, error)
	// refusePublish, when set, is what Publish answers.
	refusePublish error
	searches      []api.SearchQuery
	refuse        bool // AllowSearch says no
	files         map[string][]byte
	// add, when set, reads an added file instead of keeping it.
	add   func(r io.Reader) (int64, error)
	added int64
}

func newContentNode() *contentNode {
	n := &contentNode{views: map[string]api.ResourceView{}, feeds: map[string][]api.FeedItem{}, liked: map[string]bool{},
		comments: map[string][]api.Comment{}, profiles: map[string]api.Profile{}, cols: map[string]api.CollectionView{},
		files: map[string][]byte{}}
	n.addProfile(api.Profile{Actor: api.Actor{DID: adaDID, Type: "Person", Username: "ada", Handle: "ada@" + testPeer, Name: "Ada Lovelace", Node: testPeer, Local: true}})
	n.addProfile(api.Profile{Actor: api.Actor{DID: bobDID, Type: "Person", Username: "bob", Handle: "bob@" + testPeer, Name: "Bob Boole", Node: testPeer, Local: true}})
	n.addProfile(api.Profile{Actor: api.Actor{DID: groupDID, Type: "Group", Username: "maths", Handle: "maths@" + testPeer, Name: "Maths teachers", Node: testPeer, Local: true}})
	n.addProfile(api.Profile{Actor: api.Actor{DID: farDID, Type: "Person", Username: "far", Handle: "far@" + farPeer, Name: "Far Away", Node: farPeer}})
	return n
}

func (n *contentNode) addProfile(p api.Profile) {
	n.profiles[p.Username] = p
	n.profiles[p.Handle] = p
	n.profiles[p.DID] = p
}

// addResource puts a resource in the node, newest first.
func (n *contentNode) addResource(r api.Resource, handle string) api.ResourceView {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r.ID == "" {
		r.ID = contentCID(r.Title + r.Published.String())
	}
	if r.Version == 0 {
		r.Version = 1
	}
	it := api.FeedItem{ResourceID: r.ID, Version: r.Version, Title: r.Title, Author: r.Author, AuthorHandle: handle,
		URL: r.URL, License: r.License, Language: r.Language, Published: r.Published}
	if r.File != nil {
		it.FileCID = r.File.CID
	}
	v := api.ResourceView{ID: r.ID, Author: r.Author, Latest: r, DerivedFrom: r.DerivedFrom, Versions: []api.FeedItem{it}}
	n.views[r.ID] = v
	i := sort.Search(len(n.items), func(i int) bool { return !n.items[i].Published.After(r.Published) })
	n.items = append(n.items, api.FeedItem{})
	copy(n.items[i+1:], n.items[i:])
	n.items[i] = it
	return v
}

func (n *contentNode) record(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, fmt.Sprintf(format, args...))
}

func (n *contentNode) Calls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.calls...)
}

// page returns the items published strictly before t (all if zero), at
// most limit.
func page(items []api.FeedItem, before time.Time, limit int, keep func(api.FeedItem) bool) []api.FeedItem {
	if limit == 0 {
		limit = 20
	}
	i := 0
	if !before.IsZero() {
		i = sort.Search(len(items), func(i int) bool { return items[i].Published.Before(before) })
	}
	var out []api.FeedItem
	for ; i < len(items) && len(out) < limit; i++ {
		if keep == nil || keep(items[i]) {
			out = append(out, items[i])
		}
	}
	return out
}

// Resources.

func (n *contentNode) Publish(_ context.Context, req api.PublishRequest) (api.Published, error) {
	n.mu.Lock()
	n.published = append(n.published, req)
	refuse := n.refusePublish
	n.mu.Unlock()
	if refuse != nil {
		return api.Published{}, refuse
	}
	p := n.profiles[req.As]
	r := api.Resource{Title: req.Title, Summary: req.Summary, License: req.License, Language: req.Language, Subjects: req.Subjects,
		Keywords: req.Keywords, Level: req.Level, Type: req.Type, URL: req.URL, Author: p.DID, Published: time.Now().UTC(), DerivedFrom: req.DerivedFrom}
	if req.FileCID != "" {
		r.File = &api.File{CID: req.FileCID, Filename: req.Filename, MediaType: "application/octet-stream"}
	}
	v := n.addResource(r, p.Handle)
	return api.Published{ID: v.ID, Version: 1}, nil
}

func (n *contentNode) UpdateResource(_ context.Context, id string, req api.PublishRequest) (api.Published, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.updates = append(n.updates, req)
	return api.Published{ID: id, Version: 2}, nil
}

func (n *contentNode) DeleteResource(_ context.Context, id string) (api.Published, error) {
	n.record("delete %s", id)
	return api.Published{ID: id}, nil
}

func (n *contentNode) ShowResource(_ context.Context, id string) (api.ResourceView, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.views[id]
	if !ok {
		return v, api.NotFoundf("no resource %s known here", id)
	}
	return v, nil
}

func (n *contentNode) Resources(_ context.Context, q api.ResourceQuery) ([]api.FeedItem, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return page(n.items, q.Before, q.Limit, func(it api.FeedItem) bool {
		return (q.Author == "" || it.Author == q.Author) && (q.Community == "" || it.Community == q.Community)
	}), nil
}

func (n *contentNode) FeedOf(_ context.Context, q api.FeedQuery) ([]api.FeedItem, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.feedAsked = append(n.feedAsked, q.As)
	return page(n.feeds[q.As], q.Before, q.Limit, nil), nil
}

func (n *contentNode) Like(_ context.Context, req api.LikeRequest) (api.LikeResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.liked[req.As+"|"+req.ID] = true
	return api.LikeResponse{ActivityCID: contentCID("like")}, nil
}

func (n *contentNode) HasLiked(_ context.Context, as, resource string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.liked[as+"|"+resource], nil
}

// Comments.

func (n *contentNode) Comment(_ context.Context, req api.CommentRequest) (api.Commented, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.profiles[req.As]
	n.comments[req.Resource] = append(n.comments[req.Resource], api.Comment{Resource: req.Resource, Author: p.DID,
		AuthorName: p.Name, AuthorHandle: p.Handle, Content: req.Content, Published: time.Now()})
	return api.Commented{ID: contentCID(req.Content)}, nil
}

func (n *contentNode) Comments(_ context.Context, resource string) ([]api.Comment, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.comments[resource], nil
}

// People.

func (n *contentNode) CreateActor(_ context.Context, req api.CreateActorRequest) (api.Actor, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.profiles[req.Username]; taken {
		return api.Actor{}, api.Errorf(api.KindConflict, "the name %s is taken", req.Username)
	}
	a := api.Actor{DID: "did:key:z6Mk" + req.Username, Type: req.Type, Username: req.Username, Handle: req.Username + "@" + testPeer, Name: req.Name, Summary: req.Summary, Local: true}
	n.addProfile(api.Profile{Actor: a})
	n.calls = append(n.calls, "create "+req.Type+" "+req.Username)
	return a, nil
}

func (n *contentNode) Actors(context.Context, bool) ([]api.Actor, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []api.Actor
	for k, p := range n.profiles {
		if k == p.Username && p.Local {
			out = append(out, p.Actor)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, nil
}

func (n *contentNode) Profile(_ context.Context, ref, viewer string) (api.Profile, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.profiles[ref]
	if !ok {
		return p, api.NotFoundf("no actor %s known here", ref)
	}
	p.FollowedByViewer = viewer != "" && n.liked["follow|"+viewer+"|"+p.DID]
	return p, nil
}

func (n *contentNode) UpdateActor(context.Context, api.ActorUpdate) (api.Actor, error) {
	return api.Actor{}, api.Errorf(api.KindInvalid, "not here")
}

func (n *contentNode) Follow(_ context.Context, req api.FollowRequest) (api.Actor, error) {
	n.record("follow %s %s", req.As, req.Actor)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.liked["follow|"+req.As+"|"+req.Actor] = true
	return n.profiles[req.Actor].Actor, nil
}

func (n *contentNode) Unfollow(_ context.Context, req api.FollowRequest) error {
	n.record("unfollow %s %s", req.As, req.Actor)
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.liked, "follow|"+req.As+"|"+req.Actor)
	return nil
}

// Follows reports a follow made through Follow.
func (n *contentNode) Follows(_ context.Context, as, target string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.liked["follow|"+as+"|"+target], nil
}

// Collections.

// CollectionFeed lists the items of the collections as follows, as if
// each was just added.
func (n *contentNode) CollectionFeed(_ context.Context, as string, limit int) ([]api.CollectionAddition, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []api.CollectionAddition
	for id, c := range n.cols {
		if !n.liked["follow|"+as+"|"+id] {
			continue
		}
		for _, e := range c.Entries {
			if v, ok := n.views[e.ResourceID]; ok && len(out) < limit {
				out = append(out, api.CollectionAddition{FeedItem: v.Versions[0], CollectionID: id, CollectionTitle: c.Title})
			}
		}
	}
	return out, nil
}

func (n *contentNode) CreateCollection(_ context.Context, req api.CollectionRequest) (api.CollectionResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.profiles[req.As]
	id := contentCID("collection " + req.Title)
	n.cols[id] = api.CollectionView{Collection: api.Collection{ID: id, Title: req.Title, Summary: req.Summary, Owner: p.DID,
		OwnerHandle: p.Handle, Local: true, Created: time.Now(), Updated: time.Now()}}
	return api.CollectionResult{ID: id, Changed: true}, nil
}

func (n *contentNode) UpdateCollection(_ context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error) {
	n.record("rename %s %s %s", id, req.As, req.Title)
	return api.CollectionResult{ID: id, Changed: true}, nil
}

func (n *contentNode) DeleteCollection(_ context.Context, as, id string) (api.CollectionResult, error) {
	n.record("delete collection %s %s", as, id)
	return api.CollectionResult{ID: id, Changed: true}, nil
}

func (n *contentNode) AddToCollection(_ context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	n.record("add %s %s %s", id, req.As, req.Resource)
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.cols[id]
	c.Entries = append(c.Entries, api.CollectionItem{Position: len(c.Entries) + 1, ResourceID: req.Resource, Title: n.views[req.Resource].Latest.Title})
	c.Items = len(c.Entries)
	n.cols[id] = c
	return api.CollectionResult{ID: id, Changed: true}, nil
}

func (n *contentNode) RemoveFromCollection(_ context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	n.record("remove %s %s %s", id, req.As, req.Resource)
	return api.CollectionResult{ID: id, Changed: true}, nil
}

func (n *contentNode) Collections(_ context.Context, owner string) ([]api.Collection, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	did := owner
	if p, ok := n.profiles[owner]; ok {
		did = p.DID
	}
	var out []api.Collection
	for _, c := range n.cols {
		if owner == "" || c.Owner == did {
			out = append(out, c.Collection)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out, nil
}

func (n *contentNode) ShowCollection(_ context.Context, id string) (api.CollectionView, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.cols[id]
	if !ok {
		return c, api.NotFoundf("no collection %s known here", id)
	}
	return c, nil
}

// Searcher.

func (n *contentNode) Search(_ context.Context, q api.SearchQuery) (api.SearchResult, error) {
	n.mu.Lock()
	n.searches = append(n.searches, q)
	search := n.search
	n.mu.Unlock()
	if search != nil {
		return search(q)
	}
	return api.SearchResult{Page: q.Page}, nil
}

func (n *contentNode) AllowSearch(string) bool { return !n.refuse }

// Files.

func (n *contentNode) Add(ctx context.Context, name string, f files.Node, o api.AddOptions, _ func(int64)) (cid.Cid, error) {
	n.mu.Lock()
	n.pinnedAdds += map[bool]int{false: 1, true: 0}[o.NoPin]
	n.mu.Unlock()
	file, ok := f.(files.File)
	if !ok {
		return cid.Undef, fmt.Errorf("not a file")
	}
	if n.add != nil {
		size, err := n.add(file)
		n.mu.Lock()
		n.added += size
		n.mu.Unlock()
		if err != nil {
			return cid.Undef, err
		}
		return cid.Decode(contentCID(name))
	}
	b, err := io.ReadAll(file)
	if err != nil {
		return cid.Undef, err
	}
	c, _ := cid.Decode(contentCID(string(b)))
	n.mu.Lock()
	n.files[c.String()] = b
	n.added += int64(len(b))
	n.mu.Unlock()
	return c, nil
}

func (n *contentNode) Cat(_ context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, ok := n.files[c.String()]
	if !ok {
		return nil, 0, api.NotFoundf("no file")
	}
	return readSeekNopCloser{strings.NewReader(string(b))}, int64(len(b)), nil
}

type readSeekNopCloser struct{ io.ReadSeeker }

func (readSeekNopCloser) Close() error { return nil }

// Providers.

func (n *contentNode) Providers(_ context.Context, c cid.Cid, _ int) (api.Providers, error) {
	n.record("providers %s", c)
	return api.Providers{CID: c.String(), Local: true, Peers: 3}, nil
}

// services are the node's services for the app.
func (n *contentNode) services(sess Sessions) Services {
	svc := Services{Identity: fakeIdentity{}, Sessions: sess, Resources: n, Comments: n, People: n, Collections: n,
		Searcher: n, Files: n, Providers: n}
	if n.drafts != nil {
		svc.Drafts = n.drafts
	}
	if n.fetcher != nil {
		svc.Fetcher = n.fetcher
	}
	return svc
}

// contentSessions are signed-in accounts by token.
type contentSessions struct {
	mu       sync.Mutex
	sessions map[string]api.Session
}

func (s *contentSessions) Login(context.Context, api.LoginRequest, string) (api.Session, error) {
	return api.Session{}, api.Errorf(api.KindUnauthorized, "no")
}

func (s *contentSessions) Session(_ context.Context, token string) (api.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[token]
	if !ok {
		return v, api.Errorf(api.KindUnauthorized, "no session")
	}
	return v, nil
}

func (s *contentSessions) Logout(context.Context, string) error { return nil }

// contentApp is an app over a contentNode on a real HTTP server.
type contentApp struct {
	srv  *httptest.Server
	node *contentNode
	sess *contentSessions
}

func newContentApp(t testing.TB, n *contentNode, cfg Config) *contentApp {
	t.Helper()
	sess := &contentSessions{sessions: map[string]api.Session{}}
	app, err := New(cfg, n.services(sess))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	app.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &contentApp{srv: srv, node: n, sess: sess}
}

// visitor is a browser of the app: anonymous, or signed in with as.
type contentClient struct {
	t    testing.TB
	app  *contentApp
	c    *http.Client
	csrf string
}

// client is a browser; with a username, signed in as that person, in
// lang.
func (ca *contentApp) client(t testing.TB, username, lang string) *contentClient {
	jar, _ := cookiejar.New(nil)
	cc := &contentClient{t: t, app: ca, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if username == "" {
		return cc
	}
	did := ""
	if p, ok := ca.node.profiles[username]; ok {
		did = p.DID
	}
	s := api.Session{Token: "tok-" + username + "-" + randomToken(), CSRF: randomToken(), Expires: time.Now().Add(time.Hour),
		Account: api.Account{Username: username, DisplayName: username, Role: api.RoleMember, Status: api.StatusActive, Language: lang, Actor: did}}
	ca.sess.mu.Lock()
	ca.sess.sessions[s.Token] = s
	ca.sess.mu.Unlock()
	u, _ := url.Parse(ca.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: s.Token, Path: "/"}})
	cc.csrf = s.CSRF
	return cc
}

func (cc *contentClient) do(req *http.Request) (*http.Response, string) {
	cc.t.Helper()
	res, err := cc.c.Do(req)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (cc *contentClient) get(path string) (*http.Response, string) {
	cc.t.Helper()
	req, _ := http.NewRequest("GET", cc.app.srv.URL+path, nil)
	return cc.do(req)
}

// post sends a form with the visitor's CSRF token.
func (cc *contentClient) post(path string, form url.Values) (*http.Response, string) {
	cc.t.Helper()
	form.Set("csrf", cc.csrf)
	req, _ := http.NewRequest("POST", cc.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cc.do(req)
}

// mustContain fails unless body has every one of want.
func mustContain(t testing.TB, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// mustNotContain fails if body has any of bad.
func mustNotContain(t testing.TB, what, body string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(body, w) {
			t.Errorf("%s has %q", what, w)
		}
	}
}

// sampleResource is a resource of ada's, with a PDF.
func sampleResource(title string, at time.Time) api.Resource {
	return api.Resource{Title: title, Summary: "Fractions for year 6.\nWith exercises.", License: "CC-BY-SA-4.0", Language: "fr",
		Subjects: []string{"0541"}, Keywords: []string{"fractions"}, Level: "1", Type: "assessment", Author: adaDID,
		Creators: []api.Creator{{Name: "Ada Lovelace", Actor: adaDID}}, Published: at,
		File: &api.File{CID: contentCID("file " + title), Filename: "fractions.pdf", MediaType: "application/pdf", Size: 123456}}
}
