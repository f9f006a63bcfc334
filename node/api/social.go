package api

import (
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// Actor is what the node knows of an actor, local or remote: a person, a
// community or a node.
type Actor struct {
	DID      string `json:"did"`
	Type     string `json:"type"` // Person, Group or Service
	Username string `json:"username"`
	Handle   string `json:"handle"` // username@node
	Name     string `json:"name"`
	Summary  string `json:"summary"`
	Node     string `json:"node"` // peer ID of the actor's origin node
	Local    bool   `json:"local"`
	Seq      uint64 `json:"seq"` // the highest entry of its log the node has
	// Created is when a local actor was made; zero for remote ones.
	Created time.Time `json:"created,omitzero"`
}

// DisplayName is the actor's name, or its username when it has none.
func (a Actor) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}

// CreateActorRequest makes a local person or community.
type CreateActorRequest struct {
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Summary  string `json:"summary,omitempty"`
	Type     string `json:"type,omitempty"` // Person (default) or Group
}

// PublishRequest describes a resource to publish or, in an update, the
// fields to change (empty fields keep their value). The content is a file
// already in the node's store (FileCID, pinned by the publish) or a link
// (URL).
type PublishRequest struct {
	As          string   `json:"as,omitempty"` // local actor: name, handle or DID; "" = the only person
	FileCID     string   `json:"file_cid,omitempty"`
	Filename    string   `json:"filename,omitempty"`
	URL         string   `json:"url,omitempty"`
	Title       string   `json:"title,omitempty"`
	Summary     string   `json:"summary,omitempty"`
	License     string   `json:"license,omitempty"`
	Language    string   `json:"language,omitempty"`
	Subjects    []string `json:"subjects,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Level       string   `json:"level,omitempty"`
	Type        string   `json:"type,omitempty"`
	Community   string   `json:"community,omitempty"` // name, handle or DID
	DerivedFrom []string `json:"derived_from,omitempty"`
	// Creators are the resource's authors when the signing actor is not
	// (an imported library): they follow the actor, who is then its
	// publisher. In an update, absent keeps the creators.
	Creators []Creator `json:"creators,omitempty"`
}

// Published is the answer to a publish, update or delete.
type Published struct {
	ID          string `json:"id"`           // the resource's stable ID
	Version     uint64 `json:"version"`      // 0 for a delete
	ActivityCID string `json:"activity_cid"` // the activity in the actor's log
	FileCID     string `json:"file_cid,omitempty"`
}

// File is a resource's file on IPFS.
type File struct {
	CID       string `json:"cid"`
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// Creator is an author or other contributor of a resource.
type Creator struct {
	Name  string `json:"name"`
	Actor string `json:"actor,omitempty"`
	Role  string `json:"role,omitempty"`
}

// Resource is one version of a resource with its metadata
// (METADATA.md), as codes: the surfaces put names on them.
type Resource struct {
	ID          string     `json:"id"`
	Version     uint64     `json:"version"`
	ActivityCID string     `json:"activity_cid"`
	Title       string     `json:"title"`
	Summary     string     `json:"summary"`
	File        *File      `json:"file,omitempty"` // a file, or
	URL         string     `json:"url,omitempty"`  // a link
	License     string     `json:"license"`
	Language    string     `json:"language"`
	Subjects    []string   `json:"subjects"`
	Keywords    []string   `json:"keywords"`
	Level       string     `json:"level,omitempty"`
	Type        string     `json:"type,omitempty"`
	Audience    []string   `json:"audience"`
	Teaches     []string   `json:"teaches"`
	Created     string     `json:"created,omitempty"` // partial ISO 8601: 2021, 2021-03
	Creators    []Creator  `json:"creators"`
	CreditText  string     `json:"credit_text,omitempty"`
	DerivedFrom []string   `json:"derived_from"`
	Thumbnail   *File      `json:"thumbnail,omitempty"`
	Published   time.Time  `json:"published"`
	Updated     *time.Time `json:"updated,omitempty"`
	// Author is the DID of the signing actor; Origin the peer ID of its
	// node.
	Author string `json:"author"`
	Origin string `json:"origin"`
}

// ResourceOf turns a resource activity's object into its API form.
func ResourceOf(id, activityCID, author string, r *activity.Resource) Resource {
	out := Resource{
		ID: id, Version: r.Version, ActivityCID: activityCID, Title: r.Title, Summary: r.Description,
		License: r.License, Language: r.Language, Subjects: orEmpty(r.Subjects), Keywords: orEmpty(r.Keywords),
		Level: r.Level, Type: r.LearningResourceType, Audience: orEmpty(r.Audience), Teaches: orEmpty(r.Teaches),
		Created: r.Created, CreditText: r.CreditText, DerivedFrom: orEmpty(r.DerivedFrom),
		Published: r.Published, Author: author, Creators: []Creator{},
	}
	if !r.Updated.IsZero() {
		u := r.Updated
		out.Updated = &u
	}
	if r.Origin != nil {
		out.Origin = r.Origin.Node
	}
	for _, c := range r.Creators {
		out.Creators = append(out.Creators, Creator{Name: c.Name, Actor: c.Actor, Role: c.Role})
	}
	switch r.Media.Kind {
	case activity.KindFile:
		out.File = &File{CID: r.Media.CID, Filename: r.Media.Filename, MediaType: r.Media.MediaType, Size: r.Media.Size}
	case activity.KindLink:
		out.URL = r.Media.URL
	}
	if r.Thumbnail != nil {
		out.Thumbnail = &File{CID: r.Thumbnail.CID, MediaType: r.Thumbnail.MediaType}
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FeedItem is one entry of a feed or of a resource's history: a version of
// a resource.
type FeedItem struct {
	ResourceID      string    `json:"resource_id"`
	Version         uint64    `json:"version"`
	ActivityCID     string    `json:"activity_cid"`
	Title           string    `json:"title"`
	Author          string    `json:"author"`
	AuthorHandle    string    `json:"author_handle"`
	Community       string    `json:"community,omitempty"`
	CommunityHandle string    `json:"community_handle,omitempty"`
	FileCID         string    `json:"file_cid,omitempty"`
	URL             string    `json:"url,omitempty"`
	License         string    `json:"license"`
	Language        string    `json:"language"`
	Published       time.Time `json:"published"`
}

// ResourceView is a resource with its latest version's metadata and every
// version the node has, newest first.
type ResourceView struct {
	ID          string     `json:"id"`
	Author      string     `json:"author"`
	Community   string     `json:"community,omitempty"`
	Deleted     bool       `json:"deleted"`
	Likes       int        `json:"likes"`
	DerivedFrom []string   `json:"derived_from"`
	Latest      Resource   `json:"latest"`
	Versions    []FeedItem `json:"versions"`
	// AdaptedBy are the resources the node knows that name this one in
	// their derived_from, newest first (latest version of each).
	AdaptedBy []FeedItem `json:"adapted_by"`
}

// FollowRequest follows or unfollows an actor or community as a local
// actor.
type FollowRequest struct {
	As    string `json:"as,omitempty"`
	Actor string `json:"actor"`
}

// LikeRequest likes a resource as a local actor.
type LikeRequest struct {
	As string `json:"as,omitempty"`
	ID string `json:"id"`
}

// LikeResponse names the Like activity.
type LikeResponse struct {
	ActivityCID string `json:"activity_cid"`
}

// BlockRequest blocks an actor: the node drops its activities.
type BlockRequest struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// Rebuilt says how much a rebuild replayed.
type Rebuilt struct {
	Count int `json:"count"`
}

// CollectionRequest creates or renames a collection.
type CollectionRequest struct {
	As      string `json:"as,omitempty"`
	Title   string `json:"title,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// CollectionItemRequest adds a resource to a collection or removes it.
type CollectionItemRequest struct {
	As       string `json:"as,omitempty"`
	Resource string `json:"resource"`
}

// Collection describes a collection.
type Collection struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Owner is the DID of the owning person or community; OwnerHandle its
	// name@node when known.
	Owner       string    `json:"owner"`
	OwnerHandle string    `json:"owner_handle,omitempty"`
	Items       int       `json:"items"`
	Deleted     bool      `json:"deleted"`
	Local       bool      `json:"local"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// CollectionItem is one resource of a collection, in order.
type CollectionItem struct {
	Position   int    `json:"position"` // from 1
	ResourceID string `json:"resource_id"`
	Title      string `json:"title"` // "" when the node does not know the resource
	Author     string `json:"author"`
	Deleted    bool   `json:"deleted"`
	// AddedBy is the CID of the Add (or Create) that put it there.
	AddedBy string `json:"added_by"`
}

// CollectionView is a collection with its items, in order.
type CollectionView struct {
	Collection
	Entries []CollectionItem `json:"entries"`
}

// CollectionResult is the answer to a change of a collection.
type CollectionResult struct {
	ID          string `json:"id"`           // the collection
	ActivityCID string `json:"activity_cid"` // "" when nothing changed
	Changed     bool   `json:"changed"`
}
