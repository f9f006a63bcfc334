package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/ipfs/kubotest"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// pinningURL is the endpoint of a daemon's Pinning Service API.
func pinningURL(d *daemon.Daemon) string { return d.URL() + "/api/pinning/v1" }

// mustPinToken makes an account and a pinning token for it, as the admin
// does with `lyceum user token create USER NAME --scope pinning`.
func mustPinToken(tb testing.TB, d *daemon.Daemon, username string) string {
	tb.Helper()
	ctx := context.Background()
	if _, err := d.Node().Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: username, Password: "correct horse battery staple"}); err != nil {
		tb.Fatal(err)
	}
	t, err := d.Node().Accounts().CreateToken(ctx, username, api.CreateTokenRequest{Name: "pins", Scope: api.ScopePinning})
	if err != nil {
		tb.Fatal(err)
	}
	return t.Secret
}

// pinCall sends one request to the Pinning Service API and decodes the
// answer into out when it is not nil.
func pinCall(tb testing.TB, method, u, token string, body any, out any) int {
	tb.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		var f struct {
			Error struct{ Reason, Details string } `json:"error"`
		}
		if err := json.Unmarshal(data, &f); err != nil || f.Error.Reason == "" {
			tb.Errorf("%s %s: HTTP %d without a Failure body: %s", method, u, res.StatusCode, data)
		}
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %v\n%s", method, u, err, data)
		}
	}
	return res.StatusCode
}

func postJSON(tb testing.TB, u, token, body string) int {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// mustAdd adds data to the daemon's node, pinned or not.
func mustAdd(tb testing.TB, d *daemon.Daemon, data []byte, pin bool) cid.Cid {
	tb.Helper()
	c, err := d.Node().Content().Add(context.Background(), "f", files.NewBytesFile(data), api.AddOptions{NoPin: !pin}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func isPinned(tb testing.TB, d *daemon.Daemon, c cid.Cid) bool {
	tb.Helper()
	pins, err := d.Node().Content().Pins(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return slices.ContainsFunc(pins, c.Equals)
}

func waitStatus(tb testing.TB, d *daemon.Daemon, token, id string, want api.PinState) api.PinRequest {
	tb.Helper()
	var st api.PinRequest
	nodetest.WaitFor(tb, "pin request "+id+" "+string(want), 30*time.Second, func() bool {
		pinCall(tb, http.MethodGet, pinningURL(d)+"/pins/"+id, token, nil, &st)
		return st.Status == want
	})
	return st
}

// Every endpoint checks its token and its arguments: a bad token is 401,
// another account's request 404, a name, meta, CID or limit out of bounds
// 400, each in the spec's Failure shape.
func TestThePinningServiceRefusesBadInput(t *testing.T) {
	repo, _ := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	ada, bob := mustPinToken(t, d, "ada"), mustPinToken(t, d, "bob")
	u := pinningURL(d)
	c := mustAdd(t, d, []byte("fractions, grade 5"), true)
	full, err := d.Node().Accounts().CreateToken(context.Background(), "ada", api.CreateTokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	fullToken := full.Secret
	// A pinning token opens nothing else: the rest of the API refuses it.
	if code, body := get(t, d.URL()+"/api/v1/me", ada); code != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/me with a pinning token: %d %s", code, body)
	}
	// Only an admin or the operator makes one: a member asking for one
	// with her own token is refused.
	if code := postJSON(t, d.URL()+"/api/v1/me/tokens", fullToken, `{"name":"mine","scope":"pinning"}`); code != http.StatusForbidden {
		t.Fatalf("a member makes herself a pinning token: HTTP %d, want 403", code)
	}
	var st api.PinRequest
	if code := pinCall(t, http.MethodPost, u+"/pins", ada, api.Pin{CID: c.String(), Name: "fractions"}, &st); code != http.StatusAccepted {
		t.Fatalf("POST /pins: %d", code)
	}
	long := strings.Repeat("x", 256)
	bigMeta := map[string]string{}
	for i := range 65 {
		bigMeta[fmt.Sprint("k", i)] = "v"
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"no token is unauthorized", http.MethodGet, "/pins", "", nil, 401},
		{"a made-up token is unauthorized", http.MethodGet, "/pins", "lyc_" + strings.Repeat("A", 43), nil, 401},
		{"a token of the wrong shape is unauthorized", http.MethodPost, "/pins", "hello", api.Pin{CID: c.String()}, 401},
		{"the node's operator token is not an account's", http.MethodGet, "/pins", d.Node().Repo().APIToken(), nil, 401},
		{"a token of the whole API is not a pinning token", http.MethodGet, "/pins", fullToken, nil, 401},
		{"another account's request is not found", http.MethodGet, "/pins/" + st.RequestID, bob, nil, 404},
		{"another account's request cannot be deleted", http.MethodDelete, "/pins/" + st.RequestID, bob, nil, 404},
		{"another account's request cannot be replaced", http.MethodPost, "/pins/" + st.RequestID, bob, api.Pin{CID: c.String()}, 404},
		{"a malformed request id is not found", http.MethodGet, "/pins/ZZZ%2F..", ada, nil, 404},
		{"an over-long name is refused", http.MethodPost, "/pins", ada, api.Pin{CID: c.String(), Name: long}, 400},
		{"too many meta keys are refused", http.MethodPost, "/pins", ada, api.Pin{CID: c.String(), Meta: bigMeta}, 400},
		{"an over-long meta value is refused", http.MethodPost, "/pins", ada, api.Pin{CID: c.String(), Meta: map[string]string{"k": strings.Repeat("v", 3000)}}, 400},
		{"an invalid CID is refused", http.MethodPost, "/pins", ada, api.Pin{CID: "not-a-cid"}, 400},
		{"no CID is refused", http.MethodPost, "/pins", ada, `{"name":"x"}`, 400},
		{"an unknown field is refused", http.MethodPost, "/pins", ada, `{"cid":"` + c.String() + `","evil":1}`, 400},
		{"two JSON values are refused", http.MethodPost, "/pins", ada, `{"cid":"` + c.String() + `"}{}`, 400},
		{"an origin without /p2p/ is refused", http.MethodPost, "/pins", ada, api.Pin{CID: c.String(), Origins: []string{"/ip4/127.0.0.1/tcp/1"}}, 400},
		{"a body over 64 KiB is refused", http.MethodPost, "/pins", ada, `{"cid":"` + c.String() + `","name":"` + strings.Repeat("x", 70<<10) + `"}`, 400},
		{"limit 0 is out of range", http.MethodGet, "/pins?limit=0", ada, nil, 400},
		{"limit 1001 is out of range", http.MethodGet, "/pins?limit=1001", ada, nil, 400},
		{"a limit that is not a number is refused", http.MethodGet, "/pins?limit=ten", ada, nil, 400},
		{"an unknown status is refused", http.MethodGet, "/pins?status=done", ada, nil, 400},
		{"an unknown match is refused", http.MethodGet, "/pins?name=x&match=regex", ada, nil, 400},
		{"an invalid CID filter is refused", http.MethodGet, "/pins?cid=nope", ada, nil, 400},
		{"eleven CIDs are refused", http.MethodGet, "/pins?cid=" + strings.TrimSuffix(strings.Repeat(c.String()+",", 11), ","), ada, nil, 400},
		{"a bad time is refused", http.MethodGet, "/pins?before=yesterday", ada, nil, 400},
		{"meta that is not a JSON object of strings is refused", http.MethodGet, "/pins?meta=" + url.QueryEscape(`{"a":1}`), ada, nil, 400},
		{"an unknown parameter is refused", http.MethodGet, "/pins?order=asc", ada, nil, 400},
		{"a repeated parameter is refused", http.MethodGet, "/pins?limit=1&limit=2", ada, nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pinCall(t, tc.method, u+tc.path, tc.token, tc.body, nil); got != tc.want {
				t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, got, tc.want)
			}
		})
	}
	// Ada's request is still there, untouched by Bob's attempts.
	if code := pinCall(t, http.MethodGet, u+"/pins/"+st.RequestID, ada, nil, &st); code != 200 || st.Pin.Name != "fractions" {
		t.Fatalf("ada's request after bob's attempts: %d %+v", code, st)
	}
	// A client that keeps guessing tokens is slowed down.
	limited := false
	for range 30 {
		limited = limited || pinCall(t, http.MethodGet, u+"/pins", "lyc_"+strings.Repeat("B", 43), nil, nil) == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("30 bad tokens in a row were never rate limited")
	}
}

// Listing takes every filter of the spec, pages by created, and only
// ever shows the caller's own requests; delete unpins only what the
// service itself pinned.
func TestThePinningServiceListsFiltersAndDeletes(t *testing.T) {
	repo, _ := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	ada, bob := mustPinToken(t, d, "ada"), mustPinToken(t, d, "bob")
	u := pinningURL(d)
	mine := mustAdd(t, d, []byte("pinned by hand"), true)
	loose := mustAdd(t, d, []byte("not pinned yet"), false)
	var reqs []api.PinRequest
	for i, p := range []api.Pin{
		{CID: mine.String(), Name: "Fractions Grade 5", Meta: map[string]string{"app": "moodle", "term": "1"}},
		{CID: loose.String(), Name: "fractions grade 6", Meta: map[string]string{"app": "moodle"}},
		{CID: loose.String(), Name: "Decimals"},
	} {
		var st api.PinRequest
		if code := pinCall(t, http.MethodPost, u+"/pins", ada, p, &st); code != http.StatusAccepted || st.Status != api.PinQueued || len(st.RequestID) != 32 {
			t.Fatalf("POST %d: %d %+v", i, code, st)
		}
		reqs = append(reqs, waitStatus(t, d, ada, st.RequestID, api.PinPinned))
	}
	pinCall(t, http.MethodPost, u+"/pins", bob, api.Pin{CID: loose.String(), Name: "Fractions bob"}, nil)
	count := func(query string) (int, []string) {
		t.Helper()
		var res api.PinResults
		if code := pinCall(t, http.MethodGet, u+"/pins?"+query, ada, nil, &res); code != 200 {
			t.Fatalf("GET /pins?%s: %d", query, code)
		}
		var names []string
		for _, r := range res.Results {
			names = append(names, r.Pin.Name)
		}
		return res.Count, names
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Decimals", "fractions grade 6", "Fractions Grade 5"}},
		{"name=Fractions+Grade+5", []string{"Fractions Grade 5"}},
		{"name=fractions+grade+5&match=iexact", []string{"Fractions Grade 5"}},
		{"name=grade&match=partial", []string{"fractions grade 6"}},
		{"name=FRACTIONS&match=ipartial", []string{"fractions grade 6", "Fractions Grade 5"}},
		{"name=FRACTIONS&match=partial", nil},
		{"cid=" + mine.String(), []string{"Fractions Grade 5"}},
		{"cid=" + mine.String() + "," + loose.String(), []string{"Decimals", "fractions grade 6", "Fractions Grade 5"}},
		{"meta=" + url.QueryEscape(`{"app":"moodle"}`), []string{"fractions grade 6", "Fractions Grade 5"}},
		{"meta=" + url.QueryEscape(`{"app":"moodle","term":"1"}`), []string{"Fractions Grade 5"}},
		{"status=queued,pinning,failed", nil},
		{"limit=1", []string{"Decimals"}},
		{"before=" + reqs[2].Created.Format(time.RFC3339Nano), []string{"fractions grade 6", "Fractions Grade 5"}},
		{"after=" + reqs[0].Created.Format(time.RFC3339Nano), []string{"Decimals", "fractions grade 6"}},
		{"after=" + reqs[0].Created.Format(time.RFC3339Nano) + "&before=" + reqs[2].Created.Format(time.RFC3339Nano), []string{"fractions grade 6"}},
	} {
		n, names := count(tc.query)
		if !slices.Equal(names, tc.want) || (tc.query != "limit=1" && n != len(tc.want)) {
			t.Errorf("GET /pins?%s: count %d, %q; want %q", tc.query, n, names, tc.want)
		}
	}
	if n, names := count("limit=1"); n != 3 || len(names) != 1 {
		t.Errorf("limit=1: count %d, %d results; want 3, 1", n, len(names))
	}
	// Replace gives a new request id and the old one is gone.
	var rep api.PinRequest
	if code := pinCall(t, http.MethodPost, u+"/pins/"+reqs[2].RequestID, ada, api.Pin{CID: loose.String(), Name: "Decimals v2"}, &rep); code != http.StatusAccepted || rep.RequestID == reqs[2].RequestID {
		t.Fatalf("replace: %d %+v", code, rep)
	}
	if code := pinCall(t, http.MethodGet, u+"/pins/"+reqs[2].RequestID, ada, nil, nil); code != 404 {
		t.Fatalf("the replaced request: HTTP %d, want 404", code)
	}
	waitStatus(t, d, ada, rep.RequestID, api.PinPinned)
	// Deleting the request of a CID pinned by hand leaves the pin.
	if code := pinCall(t, http.MethodDelete, u+"/pins/"+reqs[0].RequestID, ada, nil, nil); code != http.StatusAccepted {
		t.Fatalf("delete: %d", code)
	}
	if !isPinned(t, d, mine) {
		t.Fatal("deleting a request unpinned what was pinned by hand")
	}
	// The service's own pin stays while any request (bob's too) names it.
	for _, id := range []string{reqs[1].RequestID, rep.RequestID} {
		if code := pinCall(t, http.MethodDelete, u+"/pins/"+id, ada, nil, nil); code != http.StatusAccepted {
			t.Fatalf("delete: %d", code)
		}
	}
	if !isPinned(t, d, loose) {
		t.Fatal("bob's request no longer keeps its CID pinned")
	}
	var bobs api.PinResults
	pinCall(t, http.MethodGet, u+"/pins?status=queued,pinning,pinned,failed", bob, nil, &bobs)
	if bobs.Count != 1 {
		t.Fatalf("bob lists %d requests, want his 1", bobs.Count)
	}
	pinCall(t, http.MethodDelete, u+"/pins/"+bobs.Results[0].RequestID, bob, nil, nil)
	if isPinned(t, d, loose) {
		t.Fatal("the service's pin stays after its last request went")
	}
}

// startKuboFor starts a Kubo daemon on loopback (ipfs/kubotest) and
// returns a runner of its ipfs command.
func startKuboFor(tb testing.TB) (run func(stdin []byte, args ...string) string) {
	tb.Helper()
	k := kubotest.Start(tb)
	return func(stdin []byte, args ...string) string {
		tb.Helper()
		return string(k.RunIn(tb, stdin, args...))
	}
}

// Kubo's own client pins to a Lyceum node: `ipfs pin remote service add`,
// then `ipfs pin remote add` of a file only Kubo has ends pinned on the
// Lyceum node, fetched from Kubo over bitswap, and listed by `ipfs pin
// remote ls --status=pinned`; `ipfs pin remote rm` unpins it.
func TestKuboPinsToALyceumNode(t *testing.T) {
	ipfs := startKuboFor(t)
	repo, _ := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	token := mustPinToken(t, d, "kubo")
	data := bytes.Repeat([]byte("only Kubo has these bytes. "), 80_000) // 2 MiB: several blocks
	c, err := cid.Decode(strings.TrimSpace(ipfs(data, "add", "-Q", "--cid-version=1")))
	if err != nil {
		t.Fatal(err)
	}
	// No swarm connect: the two meet through the request's origins (Kubo's
	// addresses, dialled by the Lyceum node) and delegates.
	ipfs(nil, "pin", "remote", "service", "add", "lyceum", pinningURL(d), token)
	ipfs(nil, "pin", "remote", "add", "--service=lyceum", "--name=kubo-file", c.String())
	if !isPinned(t, d, c) {
		t.Fatal("Kubo says pinned, the Lyceum node has no pin")
	}
	r, _, err := d.Node().Content().Cat(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("the Lyceum node holds other bytes than Kubo added")
	}
	if ls := ipfs(nil, "pin", "remote", "ls", "--service=lyceum", "--status=pinned"); !strings.Contains(ls, c.String()) || !strings.Contains(ls, "kubo-file") {
		t.Fatalf("ipfs pin remote ls: %q", ls)
	}
	ipfs(nil, "pin", "remote", "rm", "--service=lyceum", "--cid="+c.String())
	if isPinned(t, d, c) {
		t.Fatal("ipfs pin remote rm left the pin on the Lyceum node")
	}
}
