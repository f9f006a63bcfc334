package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fakeActors stands for node/social: it makes actors in memory, refuses a
// username it has, and fails when told to.
type fakeActors struct {
	mu    sync.Mutex
	dids  map[string]string // username → DID
	fail  error             // returned by the next CreateActor
	calls int
}

func newFakeActors() *fakeActors { return &fakeActors{dids: map[string]string{}} }

func (f *fakeActors) CreateActor(_ context.Context, req api.CreateActorRequest) (api.Actor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := f.fail; err != nil {
		f.fail = nil
		return api.Actor{}, err
	}
	if _, ok := f.dids[req.Username]; ok {
		return api.Actor{}, api.Errorf(api.KindConflict, "%s exists already", req.Username)
	}
	did := fmt.Sprintf("did:key:z6Mk%s%d", req.Username, len(f.dids))
	f.dids[req.Username] = did
	return api.Actor{DID: did, Type: req.Type, Username: req.Username, Name: req.Name, Local: true}, nil
}

func (f *fakeActors) has(username string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.dids[username]
	return ok
}

// finderActors is a fakeActors that can also tell its local actors.
type finderActors struct{ *fakeActors }

func (f finderActors) LocalActorByName(_ context.Context, username string) (api.Actor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if did, ok := f.dids[username]; ok {
		return api.Actor{DID: did, Username: username}, nil
	}
	return api.Actor{}, api.NotFoundf("no local actor %s", username)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastParams make tests quick; the policy and format are the same.
var fastParams = Params{Time: 1, Memory: 64, Threads: 1}

const goodPassword = "correct horse battery staple"

type fixture struct {
	*Service
	actors *fakeActors
	clock  *clock
	cfg    Config
}

// newFixture opens a service over a fresh accounts.db; tune changes its
// configuration.
func newFixture(tb testing.TB, tune ...func(*Config)) *fixture {
	tb.Helper()
	f := &fixture{actors: newFakeActors(), clock: &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}}
	f.cfg = Config{Path: filepath.Join(tb.TempDir(), "accounts.db"), Password: fastParams, Now: f.clock.Now,
		LoginBurst: 1000, ClientLoginBurst: 1000, RegisterBurst: 1000}
	for _, t := range tune {
		t(&f.cfg)
	}
	f.open(tb)
	return f
}

func (f *fixture) open(tb testing.TB) {
	tb.Helper()
	s, err := New(context.Background(), f.cfg, f.actors)
	if err != nil {
		tb.Fatal(err)
	}
	f.Service = s
	tb.Cleanup(func() { s.Close() })
}

// reopen closes the service and opens the same file again, as a restart
// does.
func (f *fixture) reopen(tb testing.TB) {
	tb.Helper()
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	f.open(tb)
}

// MustAccount makes an active account of role with goodPassword.
func (f *fixture) MustAccount(tb testing.TB, username string, role api.Role) api.Account {
	tb.Helper()
	a, err := f.CreateAccount(context.Background(), api.CreateAccountRequest{Username: username, Password: goodPassword, Role: role})
	if err != nil {
		tb.Fatalf("create %s: %v", username, err)
	}
	return a
}

// MustLogin logs username in with goodPassword.
func (f *fixture) MustLogin(tb testing.TB, username string) api.Session {
	tb.Helper()
	s, err := f.Login(context.Background(), api.LoginRequest{Username: username, Password: goodPassword}, "192.0.2.1")
	if err != nil {
		tb.Fatalf("log %s in: %v", username, err)
	}
	return s
}

// MustMode sets the registration mode as the admin by.
func (f *fixture) MustMode(tb testing.TB, by string, m api.RegistrationMode) {
	tb.Helper()
	if err := f.SetRegistrationMode(context.Background(), by, m); err != nil {
		tb.Fatal(err)
	}
}

// count counts the rows of a table.
func (f *fixture) count(tb testing.TB, table string) int {
	tb.Helper()
	n, err := f.db.Count(context.Background(), `SELECT count(*) FROM `+table)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func wantKind(tb testing.TB, err error, k api.Kind) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s", k)
	}
	if got := api.KindOf(err); got != k {
		tb.Fatalf("error %q is %s, want %s", err, got, k)
	}
}

func TestNewRefusesAMissingPathOrMaker(t *testing.T) {
	if _, err := New(context.Background(), Config{}, newFakeActors()); err == nil {
		t.Error("opened without a path")
	}
	if _, err := New(context.Background(), Config{Path: filepath.Join(t.TempDir(), "a.db")}, nil); err == nil {
		t.Error("opened without an actor maker")
	}
	if _, err := New(context.Background(), Config{Path: filepath.Join(t.TempDir(), "a.db"), Password: Params{Time: 1}}, newFakeActors()); err == nil {
		t.Error("opened with argon2 parameters of no memory")
	}
}

func TestCreateAccountMakesItsPersonActor(t *testing.T) {
	f := newFixture(t)
	a, err := f.CreateAccount(context.Background(), api.CreateAccountRequest{Username: "ada", DisplayName: "  Ada Lovelace ", Password: goodPassword, Language: "fr", Role: api.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if a.Username != "ada" || a.DisplayName != "Ada Lovelace" || a.Role != api.RoleAdmin || a.Status != api.StatusActive ||
		a.Language != "fr" || a.Actor == "" || !a.Created.Equal(f.clock.Now()) {
		t.Fatalf("account %+v", a)
	}
	got, err := f.Account(context.Background(), "ada")
	if err != nil || got != a {
		t.Fatalf("read back %+v (%v), want %+v", got, err, a)
	}
	if !f.actors.has("ada") {
		t.Fatal("no Person actor was made")
	}
	b := f.MustAccount(t, "bob", "")
	if b.Role != api.RoleMember || b.DisplayName != "bob" || b.Language != "en" {
		t.Fatalf("defaults: %+v", b)
	}
	_, err = f.Account(context.Background(), "nobody")
	wantKind(t, err, api.KindNotFound)
}

// An account and its actor are made together or not at all.
func TestAFailedActorLeavesNoAccount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.actors.dids["physics"] = "did:key:z6Mkcommunity" // a community of the node
	_, err := f.CreateAccount(ctx, api.CreateAccountRequest{Username: "physics", Password: goodPassword})
	wantKind(t, err, api.KindConflict)
	f.actors.fail = errors.New("disk full")
	_, err = f.CreateAccount(ctx, api.CreateAccountRequest{Username: "grace", Password: goodPassword})
	wantKind(t, err, api.KindInternal)
	f.actors.fail = api.Invalidf("name refused")
	_, err = f.CreateAccount(ctx, api.CreateAccountRequest{Username: "grace", Password: goodPassword})
	wantKind(t, err, api.KindInvalid)
	if n := f.count(t, "accounts"); n != 0 {
		t.Fatalf("%d accounts left behind", n)
	}
	// The username is free again once the actor can be made.
	f.MustAccount(t, "grace", "")
}

// With a maker that can tell its actors, a taken username is refused
// before any hashing, also for a registration that waits for approval.
func TestAUsernameOfALocalActorIsRefusedAtOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.Close()
	s, err := New(ctx, f.cfg, finderActors{f.actors})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.Service = s
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustMode(t, "admin", api.RegistrationApproval)
	f.actors.dids["physics"] = "did:key:z6Mkcommunity"
	_, err = f.Register(ctx, api.RegisterRequest{Username: "physics", Password: goodPassword}, "c")
	wantKind(t, err, api.KindConflict)
	_, err = f.Register(ctx, api.RegisterRequest{Username: "admin", Password: goodPassword}, "c")
	wantKind(t, err, api.KindConflict)
}

func TestBadFieldsAreRefusedWithTheirReason(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct {
		name string
		req  api.CreateAccountRequest
	}{
		{"an upper-case username", api.CreateAccountRequest{Username: "Ada", Password: goodPassword}},
		{"an empty username", api.CreateAccountRequest{Username: "", Password: goodPassword}},
		{"a username of 64 characters", api.CreateAccountRequest{Username: "a123456789012345678901234567890123456789012345678901234567890123", Password: goodPassword}},
		{"a display name with markup", api.CreateAccountRequest{Username: "ada", DisplayName: "<b>Ada</b>", Password: goodPassword}},
		{"a display name with a line break", api.CreateAccountRequest{Username: "ada", DisplayName: "Ada\nLovelace", Password: goodPassword}},
		{"a language other than en and fr", api.CreateAccountRequest{Username: "ada", Password: goodPassword, Language: "de"}},
		{"an unknown role", api.CreateAccountRequest{Username: "ada", Password: goodPassword, Role: "root"}},
		{"a short password", api.CreateAccountRequest{Username: "ada", Password: "short"}},
	} {
		t.Run(c.name+" is invalid", func(t *testing.T) {
			_, err := f.CreateAccount(ctx, c.req)
			wantKind(t, err, api.KindInvalid)
			if msg := api.PublicMessage(err); len(msg) < 10 {
				t.Errorf("message %q says too little", msg)
			}
		})
	}
	if n := f.count(t, "accounts"); n != 0 {
		t.Fatalf("%d accounts made of bad fields", n)
	}
}

func TestTheDatabaseIsOwnerOnlyAndVersioned(t *testing.T) {
	f := newFixture(t)
	var v int
	if err := f.db.QueryRow(context.Background(), `PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("user_version %d (%v)", v, err)
	}
	f.Close()
	if _, err := f.db.SQL().Exec(`SELECT 1`); err == nil {
		t.Fatal("the database is still open after Close")
	}
	f.open(t)
	// A file of a newer version is refused rather than misread.
	if _, err := f.db.SQL().Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if s, err := New(context.Background(), f.cfg, f.actors); err == nil {
		s.Close()
		t.Fatal("opened a file of a newer version")
	}
	if st, err := os.Stat(f.cfg.Path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("accounts.db mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}
