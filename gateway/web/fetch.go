package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/lyceum-oer/lyceum/node/api"
)

// maxFetches bounds the fetches of unknown resources and people the app
// runs at once, for every visitor together.
const maxFetches = 4

// fetchMissing runs fetch — bringing a resource or an actor found
// elsewhere into the node — for a page that was not found, and reports
// whether it succeeded, for the page to be built again. A search hit
// from an HQ links to the node that searched, which may not hold it yet.
// Each fetch counts against the visitor's search rate limit, and at most
// maxFetches run at once: a visitor cannot make the node fetch without
// bound.
func (a *App) fetchMissing(r *http.Request, err error, fetch func(context.Context, Fetcher) error) bool {
	if a.svc.Fetcher == nil || api.KindOf(err) != api.KindNotFound {
		return false
	}
	if a.svc.Searcher != nil && !a.svc.Searcher.AllowSearch(a.client(r)) {
		return false
	}
	select {
	case a.fetches <- struct{}{}:
		defer func() { <-a.fetches }()
	case <-r.Context().Done():
		return false
	}
	if ferr := fetch(r.Context(), a.svc.Fetcher); ferr != nil {
		a.log.Debug("fetch what a page lacks", "path", r.URL.Path, "err", ferr)
		return false
	}
	return true
}

// isRemoteHandle reports whether an actor reference names another node:
// name@peerID.
func isRemoteHandle(ref string) bool {
	name, where, ok := strings.Cut(ref, "@")
	return ok && name != "" && where != "" && !strings.HasPrefix(ref, "did:")
}
