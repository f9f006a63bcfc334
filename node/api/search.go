package api

import "time"

// SearchQuery is a search as a user gives it. Empty filters match
// everything.
type SearchQuery struct {
	// Text is what the user typed: words (any may match) and "quoted
	// phrases" (each must match); "" browses by the filters.
	Text     string `json:"q,omitempty"`
	Kind     string `json:"kind,omitempty"`     // resource, collection, community or person
	Language string `json:"language,omitempty"` // BCP 47: primary subtag or full tag
	License  string `json:"license,omitempty"`  // SPDX id
	Subject  string `json:"subject,omitempty"`  // ISCED-F code
	Type     string `json:"type,omitempty"`     // learning resource type
	Level    string `json:"level,omitempty"`    // ISCED level
	Sort     string `json:"sort,omitempty"`     // relevance (default), newest or popular
	Page     int    `json:"page,omitempty"`     // from 1
	Size     int    `json:"size,omitempty"`     // results a page
	// Facets asks for facet counts of every matching document; they cost
	// a visit of each match, so by default only the first page has them.
	Facets bool `json:"facets,omitempty"`
}

// SearchHit is one resource, collection, community or person found, with
// where it came from.
type SearchHit struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	Title           string    `json:"title"`
	Snippet         string    `json:"snippet"` // HTML: matched words in <mark>, the rest escaped
	Author          string    `json:"author"`
	AuthorHandle    string    `json:"author_handle"`
	Community       string    `json:"community,omitempty"`
	CommunityHandle string    `json:"community_handle,omitempty"`
	License         string    `json:"license,omitempty"`
	Language        string    `json:"language,omitempty"`
	Origin          string    `json:"origin"`
	FileCID         string    `json:"file_cid,omitempty"`
	URL             string    `json:"url,omitempty"`
	Version         uint64    `json:"version"`
	Items           int       `json:"items,omitempty"`
	Published       time.Time `json:"published"`
	Likes           int       `json:"likes"`
	Score           float64   `json:"score"`
	// Sources name where the hit came from: "local" or HQs' peer IDs.
	Sources []string `json:"sources"`
}

// FacetCount is one value of a facet and how many matches have it.
type FacetCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// SearchPage is one index's answer: a page of hits and the facets of every
// match. It is what an HQ sends over /lyceum/search.
type SearchPage struct {
	Total  uint64                  `json:"total"`
	Hits   []SearchHit             `json:"hits"`
	Facets map[string][]FacetCount `json:"facets"`
}

// SearchResult merges the local index and every HQ that answered.
type SearchResult struct {
	Total  uint64                  `json:"total"`
	Hits   []SearchHit             `json:"hits"`
	Facets map[string][]FacetCount `json:"facets"`
	Page   int                     `json:"page"`
	// Next is the page to ask for the following hits; 0 when there are none.
	Next int `json:"next"`
	// Answered and Failed list the HQs by peer ID; Errors says why each
	// failed one did not answer.
	Answered []string          `json:"answered"`
	Failed   []string          `json:"failed"`
	Errors   map[string]string `json:"errors"`
}

// DelistRequest hides a resource from this node's search results, or
// shows it again.
type DelistRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}
