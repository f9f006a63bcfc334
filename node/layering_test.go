package node_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/lyceum-oer/lyceum/"

// listedPackage is what `go list -json` says of one package.
type listedPackage struct {
	ImportPath string
	Dir        string
	Doc        string
	Imports    []string
	GoFiles    []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = ".."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// topOf names the top-level folder of one of our packages: "activity".
func topOf(importPath string) string {
	rest := strings.TrimPrefix(importPath, module)
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// The arrows of DESIGN.md point one way: cmd → gateway → node →
// {index, p2p, ipfs, activity}, index → activity, simnet → node.
func TestPackagesImportOnlyDownTheLayers(t *testing.T) {
	allowed := map[string][]string{
		"activity": {},
		"ipfs":     {},
		"p2p":      {},
		"index":    {"activity"},
		"node":     {"activity", "ipfs", "p2p", "index"},
		"gateway":  {"node", "activity"},
		"simnet":   {"node", "activity", "p2p"},
		"cmd":      {"gateway", "node", "simnet", "activity"},
	}
	for _, p := range listPackages(t) {
		from := topOf(p.ImportPath)
		if p.ImportPath == module+"node/daemon" {
			// The daemon runs the node with its HTTP surface, as the binary
			// does: the one package of node/ that knows the gateway.
			continue
		}
		ok, known := allowed[from]
		if !known {
			t.Errorf("package %s is in no layer of DESIGN.md", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := topOf(imp)
			if to == from {
				continue
			}
			permitted := false
			for _, a := range ok {
				permitted = permitted || a == to
			}
			if !permitted {
				t.Errorf("%s imports %s: %s may not depend on %s", p.ImportPath, imp, from, to)
			}
		}
	}
}

// Inside node/, each room may lean only on the rooms below it: the leaf
// packages (api, sqlitedb, ratelimit, worker), the log, then the social
// views, sync and search, each wired by node itself. Surfaces (gateway,
// simnet) see the rooms' services only through the interfaces they
// declare in api types: they never import a room's package.
func TestRoomsImportOnlyTheRoomsBelowThem(t *testing.T) {
	leaves := []string{"node/api", "node/sqlitedb", "node/ratelimit", "node/worker"}
	allowed := map[string][]string{
		"node/api":       {"activity"},
		"node/sqlitedb":  {},
		"node/ratelimit": {},
		"node/worker":    {},
		"node/actorlog":  {"activity", "node/api", "node/sqlitedb"},
		"node/social":    {"activity", "node/api", "node/sqlitedb", "node/actorlog"},
		"node/content":   {"ipfs", "node/api"},
		"node/swarm":     {"p2p", "node/api"},
		"node/logsync":   append([]string{"activity", "p2p", "node/actorlog", "node/social"}, leaves...),
		"node/search":    append([]string{"activity", "p2p", "index", "node/actorlog"}, leaves...),
		"node/accounts":  {"node/api", "node/sqlitedb", "node/ratelimit"},
		"node/backup":    {"ipfs", "node/sqlitedb"},
		"node/doctor":    {"activity", "node/api"},
		"node/pinsvc":    {"node/api", "node/sqlitedb"},
	}
	rooms := []string{"node/actorlog", "node/social", "node/content", "node/swarm", "node/logsync", "node/search", "node/accounts",
		"node/backup", "node/doctor", "node/pinsvc"}
	for _, p := range listPackages(t) {
		from := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			if ok, isRoom := allowed[from]; isRoom && to != from {
				permitted := false
				for _, a := range ok {
					permitted = permitted || a == to
				}
				if !permitted {
					t.Errorf("%s imports %s: a room leans only on the rooms below it", from, to)
				}
			}
			if top := topOf(p.ImportPath); top == "gateway" || top == "simnet" {
				for _, r := range rooms {
					if to == r && !(top == "simnet" && r == "node/logsync") {
						t.Errorf("%s imports the room %s: a surface declares the interfaces it needs instead", from, to)
					}
				}
			}
		}
	}
}

// Every package says what it is for, in a doc.go, so the map of the code
// lives in the code.
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
		if strings.HasPrefix(p.ImportPath, module+"cmd/") {
			continue // a command documents itself in main.go
		}
		if _, err := os.Stat(filepath.Join(p.Dir, "doc.go")); err != nil {
			t.Errorf("package %s has no doc.go", p.ImportPath)
		}
	}
}
