package nodetest

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
)

// OpenRepo makes a repo of the test profile in a temporary folder and
// opens it; edit, if not nil, changes its configuration first. The caller
// owns the repo (node.New takes it over).
func OpenRepo(tb testing.TB, edit func(*node.Config)) *node.Repo {
	tb.Helper()
	repo, err := node.OpenRepo(MustRepo(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		cfg := repo.Config()
		edit(&cfg)
		repo.SetConfig(cfg)
	}
	return repo
}

// Leaked returns the stacks of the goroutines still running in a
// function of one of owners (e.g. "fediverse.(*Bridge)") after a grace
// period of five seconds; "" when there are none. A TestMain calls it
// after the tests: every goroutine must stop with Close.
func Leaked(owners ...string) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaks []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, owner := range owners {
				if strings.Contains(g, owner) {
					leaks = append(leaks, g)
					break
				}
			}
		}
		if len(leaks) == 0 || time.Now().After(deadline) {
			return strings.Join(leaks, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
