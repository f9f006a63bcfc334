package node

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// MustInitRepo creates a test-profile repo in a temporary folder.
func MustInitRepo(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "repo")
	if err := InitRepo(path, ProfileTest); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestInitTwiceIsAConflict(t *testing.T) {
	path := MustInitRepo(t)
	err := InitRepo(path, ProfileTest)
	if api.KindOf(err) != api.KindConflict {
		t.Fatalf("err = %v, want a conflict", err)
	}
}

func TestOpenMissingRepoSaysHowToCreateOne(t *testing.T) {
	_, err := OpenRepo(filepath.Join(t.TempDir(), "nothing"))
	if !errors.Is(err, ErrNoRepo) || api.KindOf(err) != api.KindNotFound {
		t.Fatalf("err = %v, want ErrNoRepo of kind not_found", err)
	}
}

func TestSecondOpenOfALockedRepoFails(t *testing.T) {
	path := MustInitRepo(t)
	r, err := OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenRepo(path)
	if !errors.Is(err, ErrRepoLocked) || api.KindOf(err) != api.KindUnavailable {
		t.Fatalf("err = %v, want ErrRepoLocked", err)
	}
	r.Close()
	r2, err := OpenRepo(path)
	if err != nil {
		t.Fatalf("open after release: %v", err)
	}
	r2.Close()
}

func TestRepoKeepsItsIdentity(t *testing.T) {
	path := MustInitRepo(t)
	r, err := OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	id := r.PeerID()
	r.Close()
	r, err = OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.PeerID() != id {
		t.Fatalf("peer ID changed from %s to %s", id, r.PeerID())
	}
	if r.APIToken() == "" {
		t.Fatal("no API token")
	}
}
