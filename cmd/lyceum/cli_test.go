package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const helloCIDv0 = "QmXXTspswPk9Ysyk9rexFn4W8RinZ7SSVcR6ioHCrXyAgT"

func TestOfflineCommandsWorkOnTheRepo(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	out := mustLyceum(t, repo, "init", "--profile", "test", "--json")
	if jsonField(t, out, "peer_id") == "" {
		t.Fatalf("init --json gave no peer ID: %s", out)
	}
	file := writeFile(t, t.TempDir(), "hello.txt", []byte("hello moodlenet\n"))
	if got := strings.TrimSpace(mustLyceum(t, repo, "add", "-q", file)); got != helloCIDv0 {
		t.Fatalf("add gave %s, Kubo gives %s", got, helloCIDv0)
	}
	if got := mustLyceum(t, repo, "cat", helloCIDv0); got != "hello moodlenet\n" {
		t.Fatalf("cat gave %q", got)
	}
	if got := mustLyceum(t, repo, "pin", "ls"); !strings.Contains(got, helloCIDv0) {
		t.Fatalf("pin ls lacks the added file: %s", got)
	}
	st := mustLyceum(t, repo, "stat", "--json")
	if jsonField(t, st, "pins").(float64) != 1 || jsonField(t, st, "online") != false {
		t.Fatalf("stat: %s", st)
	}
}

// The daemon creates its repo on first run, serves the CLI over its API,
// and shuts down cleanly on Ctrl-C.
func TestDaemonServesTheCLI(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	d := startDaemon(t, repo)
	id := mustLyceum(t, repo, "id", "--json")
	if jsonField(t, id, "online") != true {
		t.Fatalf("id says offline: %s", id)
	}
	dir := t.TempDir()
	file := writeFile(t, dir, "sheet.bin", pseudoRandom(3<<20, 1))
	c := strings.TrimSpace(mustLyceum(t, repo, "add", "-q", "--cid-version", "1", file))
	out := filepath.Join(dir, "copy.bin")
	mustLyceum(t, repo, "get", c, "-o", out)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, pseudoRandom(3<<20, 1)) {
		t.Fatal("get returned other bytes")
	}
	car := mustLyceum(t, repo, "car", "export", c)
	mustLyceum(t, repo, "pin", "rm", c)
	mustLyceum(t, repo, "gc")
	// Online, a missing CID is searched for in the network until --timeout.
	if r := lyceum(t, repo, "cat", "--timeout", "1s", c); r.code != exitUnavailable || !strings.Contains(r.stderr, "timed out") {
		t.Fatalf("cat after gc: exit %d, want %d (timed out)\n%s", r.code, exitUnavailable, r.stderr)
	}
	carFile := writeFile(t, dir, "x.car", []byte(car))
	imp := mustLyceum(t, repo, "car", "import", "--json", carFile)
	if !strings.Contains(imp, c) {
		t.Fatalf("car import did not pin %s: %s", c, imp)
	}
	if _, err := os.Stat(filepath.Join(repo, "api")); err != nil {
		t.Fatalf("daemon did not record its API address: %v", err)
	}
	d.stop(t)
	if _, err := os.Stat(filepath.Join(repo, "api")); !os.IsNotExist(err) {
		t.Fatalf("api file left after shutdown: %v", err)
	}
}

func TestTwoDaemonsExchangeAFile(t *testing.T) {
	repoA := filepath.Join(t.TempDir(), "a")
	repoB := filepath.Join(t.TempDir(), "b")
	startDaemon(t, repoA)
	startDaemon(t, repoB)
	data := pseudoRandom(8<<20, 2)
	c := strings.TrimSpace(mustLyceum(t, repoA, "add", "-q", writeFile(t, t.TempDir(), "f", data)))
	addr := jsonField(t, mustLyceum(t, repoA, "id", "--json"), "addrs").([]any)[0].(string)
	mustLyceum(t, repoB, "connect", addr)
	if !strings.Contains(mustLyceum(t, repoB, "peers"), addr[strings.LastIndex(addr, "/")+1:]) {
		t.Fatal("peers of B do not list A")
	}
	out := filepath.Join(t.TempDir(), "copy")
	mustLyceum(t, repoB, "get", c, "-o", out)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, data) {
		t.Fatal("B got other bytes than A added")
	}
	mustLyceum(t, repoB, "pin", "add", c)
}

// A daemon killed with SIGKILL in the middle of a large add leaves a repo
// that opens, keeps every earlier pin complete, and takes the add again.
func TestKilledDuringAddLosesNothingAcknowledged(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	d := startDaemon(t, repo)
	dir := t.TempDir()
	small := pseudoRandom(1<<20, 3)
	pinned := strings.TrimSpace(mustLyceum(t, repo, "add", "-q", writeFile(t, dir, "small", small)))
	big := writeFile(t, dir, "big", pseudoRandom(256<<20, 4))

	addDone := make(chan result, 1)
	go func() { addDone <- lyceum(t, repo, "add", "-q", big) }()
	// Kill once the add has written part of its blocks.
	before := dirSize(filepath.Join(repo, "store"), true)
	deadline := time.Now().Add(60 * time.Second)
	for dirSize(filepath.Join(repo, "store"), true) < before+16<<20 {
		if time.Now().After(deadline) {
			t.Fatal("the add never started writing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.kill(t)
	if r := <-addDone; r.code == 0 {
		t.Log("the add finished before the kill; the test still checks the repo")
	}

	// The repo opens (the stale api file is ignored) and the pin is whole.
	st := mustLyceum(t, repo, "stat", "--json")
	if jsonField(t, st, "pins").(float64) < 1 {
		t.Fatalf("pins lost: %s", st)
	}
	if !strings.Contains(mustLyceum(t, repo, "pin", "ls"), pinned) {
		t.Fatal("the earlier pin is gone")
	}
	if got := mustLyceum(t, repo, "cat", pinned); got != string(small) {
		t.Fatal("the earlier pin is incomplete or changed")
	}
	// The interrupted add can be repeated and gives the CID a clean repo gives.
	again := strings.TrimSpace(mustLyceum(t, repo, "add", "-q", big))
	clean := filepath.Join(t.TempDir(), "clean")
	mustLyceum(t, clean, "init", "--profile", "test")
	if want := strings.TrimSpace(mustLyceum(t, clean, "add", "-q", big)); again != want {
		t.Fatalf("repeated add gave %s, a clean repo gives %s", again, want)
	}
	mustLyceum(t, repo, "gc")
	if got := mustLyceum(t, repo, "cat", pinned); got != string(small) {
		t.Fatal("gc after the crash damaged a pin")
	}
}

func TestBadInputGetsAClearErrorAndExitCode(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")
	dir := t.TempDir()
	corrupt := writeFile(t, dir, "corrupt.car", []byte("\x0a\xa1\x67version\x01garbage"))
	tests := []struct {
		name string
		repo string
		args []string
		code int
		says string
	}{
		{"a malformed CID", repo, []string{"cat", "Qmnotacid"}, exitInvalid, "not a CID"},
		{"a malformed multiaddr", repo, []string{"connect", "/ip4/300.1.1.1/tcp/1"}, exitInvalid, "not a multiaddr"},
		{"a corrupt CAR", repo, []string{"car", "import", corrupt}, exitInvalid, "CAR"},
		{"a missing CAR file", repo, []string{"car", "import", filepath.Join(dir, "nope.car")}, exitNotFound, "cannot read"},
		{"a missing repo", filepath.Join(dir, "no-repo"), []string{"stat"}, exitNotFound, "lyceum init"},
		{"a repo initialised twice", repo, []string{"init"}, exitConflict, "already holds"},
		{"an unknown flag", repo, []string{"add", "--frobnicate", "x"}, exitUsage, "unknown flag"},
		{"a missing argument", repo, []string{"cat"}, exitUsage, "want one CID"},
		{"peers without a daemon", repo, []string{"peers"}, exitUnavailable, "lyceum daemon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lyceum(t, tt.repo, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !strings.Contains(r.stderr, tt.says) || !strings.HasPrefix(lines[0], "lyceum: ") {
				t.Fatalf("stderr %q does not say %q", r.stderr, tt.says)
			}
		})
	}
	// None of it hurt the repo.
	mustLyceum(t, repo, "stat")
}

func TestDaemonRefusesWhatItCannotHave(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	startDaemon(t, repo)

	t.Run("a repo locked by another daemon", func(t *testing.T) {
		r := lyceum(t, repo, "daemon", "--profile", "test")
		if r.code != exitUnavailable || !strings.Contains(r.stderr, "in use by another lyceum process") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("an HTTP port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		other := filepath.Join(t.TempDir(), "other")
		r := lyceum(t, other, "daemon", "--profile", "test", "--http", l.Addr().String())
		if r.code != exitUnavailable || !strings.Contains(r.stderr, "--http") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		mustLyceum(t, other, "stat") // the repo it created is intact
	})
	t.Run("a swarm port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		other := filepath.Join(t.TempDir(), "other")
		r := lyceum(t, other, "daemon", "--profile", "test", "--swarm", "/ip4/127.0.0.1/tcp/"+itoa(port))
		if r.code != exitUnavailable || !strings.Contains(r.stderr, "already in use") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("a bad --swarm address", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		r := lyceum(t, other, "daemon", "--profile", "test", "--swarm", "tcp:4101")
		if r.code != exitInvalid || !strings.Contains(r.stderr, "swarm.listen") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// Two daemons: alice publishes in a community on A, bob on B follows her
// and the community by handle, and sees every step in his feed.
func TestPublishFollowFeedThroughTheCLI(t *testing.T) {
	repoA := filepath.Join(t.TempDir(), "a")
	repoB := filepath.Join(t.TempDir(), "b")
	startDaemon(t, repoA)
	startDaemon(t, repoB)
	mustLyceum(t, repoA, "actor", "create", "alice", "--name", "Alice Martin")
	mustLyceum(t, repoA, "community", "create", "maths-teachers", "--name", "Maths teachers")
	mustLyceum(t, repoB, "actor", "create", "bob")
	addr := jsonField(t, mustLyceum(t, repoA, "id", "--json"), "addrs").([]any)[0].(string)
	mustLyceum(t, repoB, "follow", "alice@"+addr)
	mustLyceum(t, repoB, "follow", "maths-teachers@"+addr)

	file := writeFile(t, t.TempDir(), "fractions.txt", []byte("1/2 + 1/4 = ?\n"))
	out := mustLyceum(t, repoA, "publish", file, "--as", "alice", "--title", "Fractions worksheet",
		"--summary", "Adding fractions", "--license", "CC-BY-4.0", "--language", "fr", "--subject", "0541",
		"--level", "2", "--type", "assessment", "--community", "maths-teachers", "--json")
	id := jsonField(t, out, "id").(string)

	feedHas := func(want int, title string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var items []map[string]any
			json.Unmarshal([]byte(mustLyceum(t, repoB, "feed", "--json")), &items)
			if len(items) == want && (want == 0 || items[0]["title"] == title) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("feed %v, want %d items, first %q", items, want, title)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	feedHas(1, "Fractions worksheet")
	mustLyceum(t, repoA, "update", id, "--title", "Fractions worksheet, revised")
	feedHas(1, "Fractions worksheet, revised") // one entry, at its latest version
	show := mustLyceum(t, repoB, "show", id)
	if !strings.Contains(show, "v2") || !strings.Contains(show, "v1") {
		t.Fatalf("show lacks a version:\n%s", show)
	}
	mustLyceum(t, repoB, "like", id)
	mustLyceum(t, repoA, "delete", id)
	feedHas(0, "")
	if !strings.Contains(mustLyceum(t, repoB, "repair", "--rebuild-views"), "rebuilt") {
		t.Fatal("repair said nothing")
	}
	feedHas(0, "")
	if r := lyceum(t, repoA, "publish", file, "--title", "Bad licence", "--license", "CC-BY-5.0", "--language", "fr"); r.code != exitInvalid || !strings.Contains(r.stderr, "license") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
