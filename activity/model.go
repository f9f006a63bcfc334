package activity

import (
	"encoding/json"
	"strings"
	"time"
)

// Context IRIs. Encoded activities carry DefaultContext() as "@context".
const (
	// ActivityStreamsContext is the ActivityStreams 2.0 context.
	ActivityStreamsContext = "https://www.w3.org/ns/activitystreams"
	// DataIntegrityContext is the W3C Data Integrity v2 context, which
	// defines the proof terms.
	DataIntegrityContext = "https://w3id.org/security/data-integrity/v2"
	// LyceumContext is the IRI of Lyceum's own context (ContextDocument),
	// which maps the OER terms onto schema.org/LRMI and Dublin Core.
	LyceumContext = "https://w3id.org/lyceum/v1"
	// PublicAudience is the ActivityStreams "everyone" collection for To/CC.
	PublicAudience = "https://www.w3.org/ns/activitystreams#Public"
)

// DefaultContext returns a fresh copy of the "@context" of Lyceum
// activities.
func DefaultContext() []string {
	return []string{ActivityStreamsContext, DataIntegrityContext, LyceumContext}
}

// ActorType is the ActivityStreams type of an actor.
type ActorType string

// The actor types.
const (
	Person  ActorType = "Person"  // a user
	Group   ActorType = "Group"   // a community
	Service ActorType = "Service" // a node
)

// Actor is a user, a community or a node. Its ID is its key: a did:key.
type Actor struct {
	ID                string    // did:key:z6Mk…
	Type              ActorType // Person, Group or Service
	PreferredUsername string    // the name part of the handle
	Name              string    // display name, optional
	Summary           string    // plain text or Markdown, optional
	Node              string    // libp2p peer ID of the origin node
	Published         time.Time // optional
	Icon              *Image    // optional avatar
	Extra             map[string]json.RawMessage
}

// Handle returns "name@node", the actor's human-facing handle.
func (a *Actor) Handle() string { return a.PreferredUsername + "@" + a.Node }

// Image is a picture stored on IPFS.
type Image struct {
	CID       string // CID of the image file
	MediaType string // image/png, image/jpeg, …
	Credit    string // attribution, optional
}

// ResourceType is the ActivityStreams type of a resource.
type ResourceType string

// The resource types: a file or a link.
const (
	Document ResourceType = "Document"
	Link     ResourceType = "Link"
)

// MediaKind says whether a resource's content is a file or a link.
type MediaKind string

// The media kinds.
const (
	KindFile MediaKind = "file"
	KindLink MediaKind = "link"
)

// Media is a resource's content: a file on IPFS or a link. JSON key "media".
type Media struct {
	Kind      MediaKind
	CID       string // file: CID of the UnixFS root
	Filename  string // file: name to save as
	MediaType string // file: IANA media type
	Size      int64  // file: bytes
	URL       string // link: http or https URL
}

// Creator is an author or other contributor of a resource.
type Creator struct {
	Name  string // required
	Actor string // did:key, optional
	Role  string // e.g. "author", "illustrator", optional
}

// Origin says where a resource comes from.
type Origin struct {
	Node   string // libp2p peer ID of the origin node
	Handle string // name@node of the publishing actor
	URL    string // canonical URL, http or https
}

// Resource is an open educational resource: an AS2 Document (a file) or
// Link (a URL) with the OER metadata of METADATA.md. A Resource is
// immutable once published; see the package documentation for versions.
type Resource struct {
	Type ResourceType // Document (file) or Link (URL)
	// ID is the stable resource ID, the CID of the Create that published
	// version 1. It is empty in that Create (which cannot contain its own
	// CID) and required in every Update.
	ID string
	// Version is 1 in the Create and n+1 in the Update that follows
	// version n.
	Version uint64
	// PreviousVersion is the CID of the activity that published version
	// Version-1; empty for version 1.
	PreviousVersion string

	Title                string // 3–160 characters; JSON "name"
	Description          string // ≤4000 characters, no raw HTML; JSON "summary"
	Media                Media
	License              string    // SPDX id, see LookupLicense
	Language             string    // BCP 47, canonical form
	Subjects             []string  // ISCED-F 2013 codes
	Keywords             []string  // ≤20 free tags
	Level                string    // ISCED 2011 "0"–"8" or "adult"
	LearningResourceType string    // see LookupType
	Created              string    // ISO 8601, partial allowed: "2021", "2021-03"
	Published            time.Time // of this version
	Updated              time.Time // of this version, optional
	Creators             []Creator // at least one
	CreditText           string
	DerivedFrom          []string // resource IDs or CIDs of sources
	Teaches              []string // 0–5 learning outcomes
	Thumbnail            *Image
	Audience             []string // see LookupAudience
	Origin               *Origin
	Extra                map[string]json.RawMessage
}

// Collection is an ordered, curated list of resources owned by a Person or
// Group. Its stable ID, like a resource's, is the CID of its Create.
type Collection struct {
	ID          string   // empty in the Create; required in Update
	Title       string   // JSON "name"
	Description string   // JSON "summary"
	Owner       string   // did:key of the owning Person or Group; JSON "attributedTo"
	Items       []string // resource IDs, in order; JSON "orderedItems"
	Extra       map[string]json.RawMessage
}

// Note is a comment in a discussion, in reply to a resource, a community or
// another note.
type Note struct {
	Content   string // plain text or Markdown, no raw HTML
	InReplyTo string // what it answers: resource ID, note CID or DID
	Published time.Time
	Extra     map[string]json.RawMessage
}

// Tombstone stands for something deleted.
type Tombstone struct {
	ID         string // what was deleted (resource ID, CID, DID)
	FormerType string // optional, e.g. "Document"
	Deleted    time.Time
	Extra      map[string]json.RawMessage
}

// ObjectKind says which member of Object is set.
type ObjectKind uint8

// The object kinds.
const (
	NoObject ObjectKind = iota
	RefObject
	ResourceObject
	NoteObject
	CollectionObject
	ActorObject
	TombstoneObject
)

// Object is an activity's object: either a reference (a DID, a CID or an
// http(s) URL) or one embedded object. Exactly one field is set. Activities
// are never embedded: Undo, Accept and Announce refer to them by CID.
type Object struct {
	Ref        string
	Resource   *Resource
	Note       *Note
	Collection *Collection
	Actor      *Actor
	Tombstone  *Tombstone
}

// Kind returns which field of o is set (NoObject if none, and also if
// several are, which Validate rejects).
func (o Object) Kind() ObjectKind {
	k, n := NoObject, 0
	if o.Ref != "" {
		k, n = RefObject, n+1
	}
	if o.Resource != nil {
		k, n = ResourceObject, n+1
	}
	if o.Note != nil {
		k, n = NoteObject, n+1
	}
	if o.Collection != nil {
		k, n = CollectionObject, n+1
	}
	if o.Actor != nil {
		k, n = ActorObject, n+1
	}
	if o.Tombstone != nil {
		k, n = TombstoneObject, n+1
	}
	if n != 1 {
		return NoObject
	}
	return k
}

// Type is the ActivityStreams type of an activity.
type Type string

// The activity types.
const (
	TypeCreate   Type = "Create"
	TypeUpdate   Type = "Update"
	TypeDelete   Type = "Delete"
	TypeFollow   Type = "Follow"
	TypeAccept   Type = "Accept"
	TypeReject   Type = "Reject"
	TypeUndo     Type = "Undo"
	TypeLike     Type = "Like"
	TypeAnnounce Type = "Announce"
	TypeAdd      Type = "Add"
	TypeRemove   Type = "Remove"
	TypeFlag     Type = "Flag"
	TypeBlock    Type = "Block"
	TypeMove     Type = "Move"
)

// Types lists every activity type, for tests and documentation.
func Types() []Type {
	return []Type{TypeCreate, TypeUpdate, TypeDelete, TypeFollow, TypeAccept, TypeReject, TypeUndo, TypeLike, TypeAnnounce, TypeAdd, TypeRemove, TypeFlag, TypeBlock, TypeMove}
}

// Activity is one signed entry of an actor's log.
type Activity struct {
	// Context is "@context"; Encode writes DefaultContext() when nil.
	// Decode requires it to begin with DefaultContext().
	Context []string
	// ID is optional: an alias such as the https URL a gateway serves it
	// at. The activity's real identifier is its CID (CIDOf).
	ID     string
	Type   Type
	Actor  string // did:key of the actor
	Object Object
	Target string // Add/Remove: the collection; Move: the new node
	// Summary is an optional reason (Flag, Reject, Block).
	Summary string
	// Seq numbers the actor's activities 1, 2, 3, … without gaps.
	Seq uint64
	// Prev is the CID of the actor's activity Seq-1; "" when Seq is 1.
	Prev      string
	Published time.Time
	To, CC    []string
	Proof     *Proof
	Extra     map[string]json.RawMessage
}

// Community names the community an activity is posted in: the first
// did:key among its recipients (FEP-1b12 calls it the audience); "" when
// there is none.
func (a *Activity) Community() string {
	for _, to := range a.To {
		if strings.HasPrefix(to, "did:key:") {
			return to
		}
	}
	return ""
}

// Proof is a W3C Data Integrity proof (type DataIntegrityProof).
type Proof struct {
	Type               string    // "DataIntegrityProof"
	Cryptosuite        string    // "eddsa-jcs-2022"
	Created            time.Time // when it was signed
	VerificationMethod string    // did:key:z6Mk…#z6Mk…
	ProofPurpose       string    // "assertionMethod"
	Context            []string  // the document's "@context", copied
	ProofValue         string    // base58btc multibase Ed25519 signature
}
