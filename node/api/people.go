package api

import "time"

// This file holds the types of the calls a person makes from the web app
// (and the API): their own feed, profiles, comments, what they liked and
// follow.

// FeedQuery asks for a page of a feed, newest first.
type FeedQuery struct {
	// As is the local actor whose feed it is: what it follows, the
	// communities it joined and what it published itself. "" = the node's
	// feed (what any local actor follows).
	As string `json:"as,omitempty"`
	// Before pages on: only items published strictly before it.
	Before time.Time `json:"before,omitzero"`
	// Limit is the page's size: 0 = 20, at most 100.
	Limit int `json:"limit,omitempty"`
}

// ResourceQuery lists the live resources the node knows (latest version
// of each), newest first: "what is new in the network", an actor's
// resources, a community's.
type ResourceQuery struct {
	Author    string    `json:"author,omitempty"`    // DID, handle or local name; "" = anyone
	Community string    `json:"community,omitempty"` // DID, handle or local name; "" = any or none
	Before    time.Time `json:"before,omitzero"`     // only items published strictly before it
	Limit     int       `json:"limit,omitempty"`     // 0 = 20, at most 100
}

// ActorUpdate changes a local actor's profile, announced as an Update of
// the actor. Name and Summary replace the old ones (empty clears them);
// IconCID, when set, is the CID of an image file the node holds; RemoveIcon
// clears it.
type ActorUpdate struct {
	As         string `json:"as,omitempty"`
	Name       string `json:"name"`
	Summary    string `json:"summary"`
	IconCID    string `json:"icon_cid,omitempty"`
	IconType   string `json:"icon_type,omitempty"` // image/png, image/jpeg, image/webp or image/gif
	RemoveIcon bool   `json:"remove_icon,omitempty"`
}

// Profile is an actor as its page shows it.
type Profile struct {
	Actor
	IconCID   string `json:"icon_cid,omitempty"` // its avatar, if any
	Followers int    `json:"followers"`          // actors known to follow it (a community's members)
	Following int    `json:"following"`          // actors and communities it follows
	Resources int    `json:"resources"`          // its live resources the node knows
	// Viewer says how the asking local actor relates to it ("" = nobody
	// asked).
	FollowedByViewer bool `json:"followed_by_viewer"`
}

// CommentRequest comments on a resource as a local actor: a Note in
// reply to the resource, signed in the actor's log and delivered with the
// resource's announcements.
type CommentRequest struct {
	As       string `json:"as,omitempty"`
	Resource string `json:"resource"`
	Content  string `json:"content"` // plain text, 1 to 5,000 characters
}

// Comment is a comment on a resource: a Note of a Lyceum actor or a reply
// from the fediverse. Content is plain text in both cases: a fediverse
// reply's HTML is reduced to its text before it reaches a page.
type Comment struct {
	ID           string    `json:"id"` // the Create's activity CID, or the fediverse note's URL
	Resource     string    `json:"resource"`
	Author       string    `json:"author"` // DID, or the fediverse actor's URL
	AuthorName   string    `json:"author_name"`
	AuthorHandle string    `json:"author_handle"`
	Content      string    `json:"content"`
	Published    time.Time `json:"published"`
	Fediverse    bool      `json:"fediverse"`
	URL          string    `json:"url,omitempty"` // the fediverse note's page
}

// Commented is the answer to a comment.
type Commented struct {
	ID string `json:"id"` // the Create's activity CID
}

// Providers says how many peers are known to hold a file.
type Providers struct {
	CID   string `json:"cid"`
	Local bool   `json:"local"` // this node holds all of it
	// Peers are the other peers found holding it (connected peers that
	// have it and DHT provider records), up to the limit asked.
	Peers int `json:"peers"`
}

// CollectionAddition is a resource that a followed collection added: the
// resource's latest version, and the collection.
type CollectionAddition struct {
	FeedItem
	CollectionID    string    `json:"collection_id"`
	CollectionTitle string    `json:"collection_title"`
	Added           time.Time `json:"added"`
}
