package activity

import (
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportsNothingOfOursNorNetworkOrStorage keeps activity the root
// domain package: it may import the standard library (minus networking and
// HTTP), encoding libraries, the Ed25519 implementation and its key
// cache, nothing else of Lyceum's.
func TestImportsNothingOfOursNorNetworkOrStorage(t *testing.T) {
	allowed := []string{
		"github.com/ipfs/go-cid", "github.com/multiformats/go-multihash",
		"github.com/multiformats/go-multibase", "github.com/gowebpki/jcs",
		"golang.org/x/text/language",
		"github.com/oasisprotocol/curve25519-voi/primitives/ed25519", "github.com/hashicorp/golang-lru/v2",
	}
	banned := []string{"net/http", "net/rpc", "net/smtp", "database/", "os/exec"}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			for _, b := range banned {
				if strings.HasPrefix(p, b) {
					t.Errorf("%s imports %s", name, p)
				}
			}
			if p == "net" {
				t.Errorf("%s imports net", name)
			}
			if strings.Contains(p, ".") && !contains(allowed, p) {
				t.Errorf("%s imports %s, which is not on the allowed list", name, p)
			}
		}
	}
	if _, err := os.Stat("doc.go"); err != nil {
		t.Error("activity needs a doc.go with the package documentation")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
