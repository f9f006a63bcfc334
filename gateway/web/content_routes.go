package web

import "net/http"

// contentRoutes adds the pages of resources, search, people, communities
// and collections: each only when the node has the services it needs.
func (a *App) contentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", a.page(a.home))
	if a.svc.Searcher != nil {
		mux.HandleFunc("GET /search", a.page(a.search))
	}
	if a.svc.Resources != nil {
		a.resourceRoutes(mux)
	}
	if a.svc.People != nil {
		// /@{name}: a wildcard is a whole segment, so the profile handler
		// takes every one-segment path and answers "not found" unless it
		// begins with @. Literal paths (/search, /login…) take precedence.
		mux.HandleFunc("GET /{at}", a.page(a.profile))
		mux.HandleFunc("GET /g/{$}", a.page(a.communities))
		mux.HandleFunc("GET /g/new", a.page(a.communityForm))
		mux.HandleFunc("POST /g/new", a.page(a.createCommunity))
		mux.HandleFunc("GET /g/{name}", a.page(a.community))
		mux.HandleFunc("POST /follow", a.page(a.follow(false)))
		mux.HandleFunc("POST /unfollow", a.page(a.follow(true)))
	}
	if a.svc.Collections != nil {
		mux.HandleFunc("GET /c/{$}", a.page(a.collections))
		mux.HandleFunc("GET /c/new", a.page(a.collectionForm))
		mux.HandleFunc("POST /c/new", a.page(a.createCollection))
		mux.HandleFunc("GET /c/{id}", a.page(a.collection))
		mux.HandleFunc("POST /c/{id}/edit", a.page(a.renameCollection))
		mux.HandleFunc("POST /c/{id}/remove", a.page(a.removeFromCollection))
		mux.HandleFunc("GET /c/{id}/delete", a.page(a.deleteCollectionForm))
		mux.HandleFunc("POST /c/{id}/delete", a.page(a.deleteCollection))
	}
}

// resourceRoutes adds a resource's page and what is done on it, and the
// publish, edit and delete pages.
func (a *App) resourceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /r/{id}", a.page(a.resource))
	mux.HandleFunc("POST /r/{id}/like", a.page(a.like))
	if a.svc.Collections != nil {
		mux.HandleFunc("POST /r/{id}/collect", a.page(a.collect))
	}
	if a.svc.Comments != nil {
		mux.HandleFunc("POST /r/{id}/comments", a.page(a.comment))
	}
	if a.svc.Providers != nil {
		mux.Handle("GET /r/{id}/providers", newProviderCounts(a))
	}
	if a.svc.Files != nil {
		mux.HandleFunc("GET /r/{id}/file/{name}", a.resourceFile)
		mux.HandleFunc("GET /r/{id}/moodle", a.page(a.sendToMoodle))
	}
	if a.svc.Files != nil {
		mux.HandleFunc("GET /publish", a.page(a.publishForm))
		mux.HandleFunc("POST /publish", a.page(a.publish))
		if a.svc.Drafts != nil {
			mux.HandleFunc("GET /drafts", a.page(a.drafts))
			mux.HandleFunc("POST /drafts/{id}/delete", a.page(a.deleteDraft))
		}
		mux.HandleFunc("GET /r/{id}/edit", a.page(a.editForm))
		mux.HandleFunc("POST /r/{id}/edit", a.page(a.edit))
	}
	mux.HandleFunc("GET /r/{id}/delete", a.page(a.deleteForm))
	mux.HandleFunc("POST /r/{id}/delete", a.page(a.deleteResource))
}
