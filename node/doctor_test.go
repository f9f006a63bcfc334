package node_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// A healthy test node passes the doctor (network checks aside, which
// warn on loopback without peers); a block damaged on disk is reported,
// with what to do.
func TestDoctorPassesAHealthyRepoAndFindsADamagedBlock(t *testing.T) {
	ctx := context.Background()
	path := nodetest.MustRepo(t)
	n := nodetest.MustOpen(t, path, nodetest.Options{})
	nodetest.MustPerson(t, n, "ada")
	nodetest.MustPublish(t, n, "ada", "Fractions")
	nodetest.MustPublish(t, n, "ada", "Decimals")
	rep, err := n.Doctor(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]api.DoctorCheck{}
	for _, c := range rep.Checks {
		checks[c.Name] = c
	}
	if !rep.OK || checks["blocks"].Status != api.CheckOK || checks["logs"].Status != api.CheckOK {
		t.Fatalf("a healthy node: %+v", rep)
	}
	if d := checks["logs"].Detail; !strings.Contains(d, "entries") || strings.Contains(d, "(0 entries)") {
		t.Fatalf("logs: %+v", checks["logs"])
	}
	if c := checks["reachability"]; c.Status != api.CheckWarn || c.Fix == "" {
		t.Fatalf("reachability, undecided: %+v", c)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// Damage one block file of the flatfs store.
	var damaged string
	err = filepath.WalkDir(filepath.Join(path, "store", "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".data") || damaged != "" {
			return err
		}
		damaged = p
		return os.WriteFile(p, []byte("not what was stored"), 0o600)
	})
	if err != nil || damaged == "" {
		t.Fatalf("no block file to damage (%v)", err)
	}
	n = nodetest.MustOpen(t, path, nodetest.Options{Offline: true})
	rep, err = n.Doctor(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		checks[c.Name] = c
	}
	if rep.OK || checks["blocks"].Status != api.CheckFail || checks["blocks"].Fix == "" {
		t.Fatalf("a damaged block: %+v", checks["blocks"])
	}
	if c := checks["reachability"]; c.Status != api.CheckSkipped {
		t.Fatalf("reachability offline: %+v", c)
	}
}
