package activity

import (
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"golang.org/x/text/language"
)

// Limits on free-text fields, in characters (runes).
const (
	MinTitle       = 3
	MaxTitle       = 160
	MaxDescription = 4000
	MaxKeywords    = 20
	MaxKeyword     = 64
	MaxTeaches     = 5
	MaxText        = 500  // one learning outcome, credit line, creator name…
	MaxNote        = 5000 // a comment
	MaxList        = 1000 // references in one list (To, CC, items, derivedFrom…)
	MaxRef         = 2048 // one reference
)

// htmlTag matches what a browser would treat as markup: a tag, a comment
// or a declaration. Markdown such as "a < b" or "<https://…>" does not match.
var htmlTag = regexp.MustCompile(`<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|!--|!\[CDATA\[|![A-Za-z]|\?)`)

// partialDate is ISO 8601 year, year-month or date.
var partialDate = regexp.MustCompile(`^\d{4}(?:-\d{2}(?:-\d{2})?)?$`)

// username is the name part of a handle.
var username = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.-]{0,63}$`)

// Validate checks a against the rules for publishing: required fields per
// type, vocabularies, formats and limits. Errors are *FieldError.
func (a *Activity) Validate() error {
	if err := a.validate(); err != nil {
		return err
	}
	return nil
}

func (a *Activity) validate() error {
	if a.Context != nil {
		def := DefaultContext()
		if len(a.Context) < len(def) || !slices.Equal(a.Context[:len(def)], def) {
			return fieldErr("@context", "must begin with %q", def)
		}
	}
	if !slices.Contains(Types(), a.Type) {
		if a.Type == "" {
			return fieldErr("type", "is required")
		}
		return fieldErr("type", "%q is not a known activity type", a.Type)
	}
	if err := checkDID("actor", a.Actor, true); err != nil {
		return err
	}
	if a.ID != "" {
		if err := checkRef("id", a.ID); err != nil {
			return err
		}
	}
	if a.Seq == 0 {
		return fieldErr("seq", "is required and starts at 1")
	}
	if a.Seq >= maxSafeInt {
		return fieldErr("seq", "must be below 2^53")
	}
	if a.Seq == 1 && a.Prev != "" {
		return fieldErr("prev", "must be absent when seq is 1")
	}
	if a.Seq > 1 {
		if a.Prev == "" {
			return fieldErr("prev", "is required when seq > 1")
		}
		if _, err := parseBlockCID(a.Prev); err != nil {
			return fieldErr("prev", "%v", err)
		}
	}
	if a.Published.IsZero() {
		return fieldErr("published", "is required")
	}
	if err := checkTime("published", a.Published); err != nil {
		return err
	}
	if err := checkText("summary", a.Summary, 0, MaxDescription); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		refs []string
	}{{"to", a.To}, {"cc", a.CC}} {
		if err := checkRefs(l.name, l.refs, MaxList); err != nil {
			return err
		}
	}
	if err := a.validateObject(); err != nil {
		return err
	}
	if a.Proof != nil {
		if err := a.Proof.validate("proof"); err != nil {
			return err
		}
	}
	return nil
}

// validateObject applies the per-type rules on Object and Target.
func (a *Activity) validateObject() error {
	k := a.Object.Kind()
	if k == NoObject {
		return fieldErr("object", "is required (exactly one reference or embedded object)")
	}
	allowed := map[Type][]ObjectKind{
		TypeCreate:   {ResourceObject, NoteObject, CollectionObject},
		TypeUpdate:   {ResourceObject, NoteObject, CollectionObject, ActorObject},
		TypeDelete:   {RefObject, TombstoneObject},
		TypeFollow:   {RefObject},
		TypeAccept:   {RefObject},
		TypeReject:   {RefObject},
		TypeUndo:     {RefObject},
		TypeLike:     {RefObject},
		TypeAnnounce: {RefObject},
		TypeAdd:      {RefObject},
		TypeRemove:   {RefObject},
		TypeFlag:     {RefObject},
		TypeBlock:    {RefObject},
		TypeMove:     {RefObject},
	}[a.Type]
	if !slices.Contains(allowed, k) {
		return fieldErr("object", "%s cannot carry this kind of object", a.Type)
	}
	needTarget := a.Type == TypeAdd || a.Type == TypeRemove || a.Type == TypeMove
	if needTarget && a.Target == "" {
		return fieldErr("target", "is required for %s", a.Type)
	}
	if !needTarget && a.Target != "" {
		return fieldErr("target", "is only allowed on Add, Remove and Move")
	}
	if a.Type == TypeMove {
		// The actor keeps its key; it moves to another origin node.
		if err := checkPeerID("target", a.Target); err != nil {
			return err
		}
	} else if a.Target != "" {
		if err := checkRef("target", a.Target); err != nil {
			return err
		}
	}
	switch k {
	case RefObject:
		if err := checkRef("object", a.Object.Ref); err != nil {
			return err
		}
		if a.Type == TypeMove && a.Object.Ref != a.Actor {
			return fieldErr("object", "Move moves its own actor: must equal actor")
		}
	case ResourceObject:
		return a.Object.Resource.validate("object", a.Type)
	case NoteObject:
		return a.Object.Note.validate("object")
	case CollectionObject:
		return a.Object.Collection.validate("object", a.Type)
	case ActorObject:
		if a.Object.Actor.ID != a.Actor {
			return fieldErr("object.id", "an actor can only update itself")
		}
		return a.Object.Actor.validate("object")
	case TombstoneObject:
		return a.Object.Tombstone.validate("object")
	}
	return nil
}

// Validate checks the resource for publishing in a Create (version 1) or
// an Update (later versions): title, media, license, language and creators
// are required.
func (r *Resource) Validate() error {
	t := TypeCreate
	if r.Version > 1 {
		t = TypeUpdate
	}
	return r.validate("", t)
}

func (r *Resource) validate(p string, t Type) error {
	switch r.Type {
	case Document:
		if r.Media.Kind != KindFile {
			return fieldErr(join(p, "media.kind"), "a Document's media must be a file")
		}
	case Link:
		if r.Media.Kind != KindLink {
			return fieldErr(join(p, "media.kind"), "a Link's media must be a link")
		}
	case "":
		return fieldErr(join(p, "type"), "is required")
	default:
		return fieldErr(join(p, "type"), "%q is not a resource type", r.Type)
	}
	if t == TypeCreate {
		if r.ID != "" {
			return fieldErr(join(p, "id"), "must be absent in a Create: the resource ID is the Create's CID")
		}
		if r.Version != 1 {
			return fieldErr(join(p, "version"), "must be 1 in a Create")
		}
		if r.PreviousVersion != "" {
			return fieldErr(join(p, "previousVersion"), "must be absent in a Create")
		}
	} else {
		if _, err := parseBlockCID(r.ID); err != nil {
			return fieldErr(join(p, "id"), "must be the resource ID (CID of its Create): %v", err)
		}
		if r.Version < 2 {
			return fieldErr(join(p, "version"), "must be 2 or more in an Update")
		}
		if r.Version >= maxSafeInt {
			return fieldErr(join(p, "version"), "must be below 2^53")
		}
		if _, err := parseBlockCID(r.PreviousVersion); err != nil {
			return fieldErr(join(p, "previousVersion"), "must be the CID of the previous version's activity: %v", err)
		}
	}
	if r.Title == "" {
		return fieldErr(join(p, "name"), "title is required")
	}
	if err := checkTitle(join(p, "name"), r.Title); err != nil {
		return err
	}
	if err := checkText(join(p, "summary"), r.Description, 0, MaxDescription); err != nil {
		return err
	}
	if err := r.Media.validate(join(p, "media")); err != nil {
		return err
	}
	if r.License == "" {
		return fieldErr(join(p, "license"), "is required")
	}
	if _, ok := LookupLicense(r.License); !ok {
		if id, ok := NormalizeLicense(r.License); ok {
			return fieldErr(join(p, "license"), "%q is not canonical: use %q", r.License, id)
		}
		return fieldErr(join(p, "license"), "%q is not a known SPDX licence id", r.License)
	}
	if r.Language == "" {
		return fieldErr(join(p, "language"), "is required")
	}
	if err := checkLanguage(join(p, "language"), r.Language); err != nil {
		return err
	}
	if len(r.Subjects) > MaxKeywords {
		return fieldErr(join(p, "subjects"), "at most %d", MaxKeywords)
	}
	for i, s := range r.Subjects {
		if _, ok := LookupSubject(s); !ok {
			if code, ok := NormalizeSubject(s); ok {
				return fieldErr(index(join(p, "subjects"), i), "%q is a MoodleNet code: use %q", s, code)
			}
			return fieldErr(index(join(p, "subjects"), i), "%q is not an ISCED-F 2013 code", s)
		}
	}
	if len(r.Keywords) > MaxKeywords {
		return fieldErr(join(p, "keywords"), "at most %d keywords", MaxKeywords)
	}
	for i, k := range r.Keywords {
		if err := checkText(index(join(p, "keywords"), i), k, 1, MaxKeyword); err != nil {
			return err
		}
	}
	if r.Level != "" {
		if _, ok := LookupLevel(r.Level); !ok {
			if code, ok := NormalizeLevel(r.Level); ok {
				return fieldErr(join(p, "level"), "%q is a MoodleNet code: use %q", r.Level, code)
			}
			return fieldErr(join(p, "level"), "%q is not an ISCED 2011 level (0–8 or adult)", r.Level)
		}
	}
	if r.LearningResourceType != "" {
		if _, ok := LookupType(r.LearningResourceType); !ok {
			return fieldErr(join(p, "learningResourceType"), "%q is not a known resource type", r.LearningResourceType)
		}
	}
	if r.Created != "" {
		if err := checkPartialDate(join(p, "created"), r.Created); err != nil {
			return err
		}
	}
	if err := checkTime(join(p, "published"), r.Published); err != nil {
		return err
	}
	if err := checkTime(join(p, "updated"), r.Updated); err != nil {
		return err
	}
	if len(r.Creators) == 0 {
		return fieldErr(join(p, "creators"), "at least one creator is required")
	}
	if len(r.Creators) > 100 {
		return fieldErr(join(p, "creators"), "at most 100")
	}
	for i, c := range r.Creators {
		cp := index(join(p, "creators"), i)
		if err := checkText(join(cp, "name"), c.Name, 1, MaxText); err != nil {
			return err
		}
		if c.Actor != "" {
			if err := checkDID(join(cp, "actor"), c.Actor, false); err != nil {
				return err
			}
		}
		if err := checkText(join(cp, "role"), c.Role, 0, MaxKeyword); err != nil {
			return err
		}
	}
	if err := checkText(join(p, "creditText"), r.CreditText, 0, MaxText); err != nil {
		return err
	}
	if err := checkRefs(join(p, "derivedFrom"), r.DerivedFrom, 100); err != nil {
		return err
	}
	if len(r.Teaches) > MaxTeaches {
		return fieldErr(join(p, "teaches"), "at most %d learning outcomes", MaxTeaches)
	}
	for i, s := range r.Teaches {
		if err := checkText(index(join(p, "teaches"), i), s, 1, MaxText); err != nil {
			return err
		}
	}
	if r.Thumbnail != nil {
		if err := r.Thumbnail.validate(join(p, "thumbnail")); err != nil {
			return err
		}
	}
	for i, s := range r.Audience {
		if _, ok := LookupAudience(s); !ok {
			return fieldErr(index(join(p, "audience"), i), "%q is not a known audience", s)
		}
	}
	if r.Origin != nil {
		op := join(p, "origin")
		if r.Origin.Node != "" {
			if err := checkPeerID(join(op, "node"), r.Origin.Node); err != nil {
				return err
			}
		}
		if err := checkText(join(op, "handle"), r.Origin.Handle, 0, MaxText); err != nil {
			return err
		}
		if r.Origin.URL != "" {
			if err := checkHTTPURL(join(op, "url"), r.Origin.URL); err != nil {
				return err
			}
		}
	}
	return nil
}

// Normalize maps values imported from MoodleNet or typed by people to their
// canonical form in place (licence and subject codes, levels, language tag
// case) so that Validate accepts them. Call it before signing: a signed
// resource is never rewritten.
func (r *Resource) Normalize() {
	if id, ok := NormalizeLicense(r.License); ok {
		r.License = id
	}
	if tag, err := language.Parse(r.Language); err == nil {
		r.Language = tag.String()
	}
	for i, s := range r.Subjects {
		if code, ok := NormalizeSubject(s); ok {
			r.Subjects[i] = code
		}
	}
	if code, ok := NormalizeLevel(r.Level); ok {
		r.Level = code
	}
	r.Title = strings.TrimSpace(r.Title)
	r.Description = strings.TrimSpace(r.Description)
}

func (m *Media) validate(p string) error {
	switch m.Kind {
	case KindFile:
		if _, err := cid.Decode(m.CID); err != nil {
			return fieldErr(join(p, "cid"), "%q is not a CID", m.CID)
		}
		if m.Filename == "" {
			return fieldErr(join(p, "filename"), "is required for a file")
		}
		if err := checkText(join(p, "filename"), m.Filename, 1, 255); err != nil {
			return err
		}
		if strings.ContainsAny(m.Filename, "/\\") || m.Filename == "." || m.Filename == ".." {
			return fieldErr(join(p, "filename"), "must be a plain file name")
		}
		if err := checkMediaType(join(p, "mediaType"), m.MediaType, ""); err != nil {
			return err
		}
		if m.Size < 0 || m.Size >= maxSafeInt {
			return fieldErr(join(p, "size"), "must be 0…2^53-1")
		}
		if m.URL != "" {
			return fieldErr(join(p, "url"), "is only for links")
		}
	case KindLink:
		if m.CID != "" || m.Filename != "" || m.MediaType != "" || m.Size != 0 {
			return fieldErr(p, "a link has only kind and url")
		}
		if m.URL == "" {
			return fieldErr(join(p, "url"), "is required for a link")
		}
		return checkHTTPURL(join(p, "url"), m.URL)
	case "":
		return fieldErr(join(p, "kind"), "is required (file or link)")
	default:
		return fieldErr(join(p, "kind"), "%q is not file or link", m.Kind)
	}
	return nil
}

func (im *Image) validate(p string) error {
	if _, err := cid.Decode(im.CID); err != nil {
		return fieldErr(join(p, "cid"), "%q is not a CID", im.CID)
	}
	if err := checkMediaType(join(p, "mediaType"), im.MediaType, "image/"); err != nil {
		return err
	}
	return checkText(join(p, "credit"), im.Credit, 0, MaxText)
}

// Validate checks a collection as Create (no ID) or Update (ID) carries it.
func (c *Collection) Validate() error {
	t := TypeCreate
	if c.ID != "" {
		t = TypeUpdate
	}
	return c.validate("", t)
}

func (c *Collection) validate(p string, t Type) error {
	if t == TypeCreate && c.ID != "" {
		return fieldErr(join(p, "id"), "must be absent in a Create: the collection ID is the Create's CID")
	}
	if t == TypeUpdate {
		if _, err := parseBlockCID(c.ID); err != nil {
			return fieldErr(join(p, "id"), "must be the collection ID (CID of its Create): %v", err)
		}
	}
	if c.Title == "" {
		return fieldErr(join(p, "name"), "title is required")
	}
	if err := checkTitle(join(p, "name"), c.Title); err != nil {
		return err
	}
	if err := checkText(join(p, "summary"), c.Description, 0, MaxDescription); err != nil {
		return err
	}
	if err := checkDID(join(p, "attributedTo"), c.Owner, true); err != nil {
		return err
	}
	return checkRefs(join(p, "orderedItems"), c.Items, MaxList)
}

// Validate checks a note (comment).
func (n *Note) Validate() error { return n.validate("") }

func (n *Note) validate(p string) error {
	if n.Content == "" {
		return fieldErr(join(p, "content"), "is required")
	}
	if err := checkText(join(p, "content"), n.Content, 1, MaxNote); err != nil {
		return err
	}
	if n.InReplyTo != "" {
		if err := checkRef(join(p, "inReplyTo"), n.InReplyTo); err != nil {
			return err
		}
	}
	return checkTime(join(p, "published"), n.Published)
}

// Validate checks an actor profile.
func (a *Actor) Validate() error { return a.validate("") }

func (a *Actor) validate(p string) error {
	switch a.Type {
	case Person, Group, Service:
	default:
		return fieldErr(join(p, "type"), "%q is not Person, Group or Service", a.Type)
	}
	if err := checkDID(join(p, "id"), a.ID, true); err != nil {
		return err
	}
	if !username.MatchString(a.PreferredUsername) {
		return fieldErr(join(p, "preferredUsername"), "%q must be 1–64 of a-z 0-9 _ . -", a.PreferredUsername)
	}
	if err := checkText(join(p, "name"), a.Name, 0, MaxText); err != nil {
		return err
	}
	if err := checkText(join(p, "summary"), a.Summary, 0, MaxDescription); err != nil {
		return err
	}
	if err := checkPeerID(join(p, "node"), a.Node); err != nil {
		return err
	}
	if err := checkTime(join(p, "published"), a.Published); err != nil {
		return err
	}
	if a.Icon != nil {
		return a.Icon.validate(join(p, "icon"))
	}
	return nil
}

func (t *Tombstone) validate(p string) error {
	if err := checkRef(join(p, "id"), t.ID); err != nil {
		return err
	}
	if err := checkText(join(p, "formerType"), t.FormerType, 0, MaxKeyword); err != nil {
		return err
	}
	return checkTime(join(p, "deleted"), t.Deleted)
}

func (pr *Proof) validate(p string) error {
	if pr.Type == "" || pr.Cryptosuite == "" || pr.VerificationMethod == "" || pr.ProofPurpose == "" || pr.ProofValue == "" || pr.Created.IsZero() {
		return fieldErr(p, "type, cryptosuite, created, verificationMethod, proofPurpose and proofValue are required")
	}
	return checkTime(join(p, "created"), pr.Created)
}

// checkText checks length in runes and, for every free text, that it is
// valid UTF-8 without raw HTML.
func checkText(p, s string, min, max int) error {
	if s == "" && min == 0 {
		return nil
	}
	if !utf8.ValidString(s) {
		return fieldErr(p, "is not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		return fieldErr(p, "must be %d–%d characters, is %d", min, max, n)
	}
	if htmlTag.MatchString(s) {
		return fieldErr(p, "must be plain text or Markdown, not HTML")
	}
	return nil
}

// checkTitle checks a resource's or a collection's title: valid UTF-8 of
// MinTitle to MaxTitle characters. Unlike the other free texts it may
// hold what looks like a tag ("The <p> element"): a title is plain text
// in every format Lyceum speaks (ActivityStreams' name), so every reader
// shows it as text, never as markup. This only widens what older nodes
// accepted.
func checkTitle(p, s string) error {
	if !utf8.ValidString(s) {
		return fieldErr(p, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < MinTitle || n > MaxTitle {
		return fieldErr(p, "must be %d–%d characters, is %d", MinTitle, MaxTitle, n)
	}
	return nil
}

func checkTime(p string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fieldErr(p, "year %d out of range", y)
	}
	return nil
}

func checkPartialDate(p, s string) error {
	if partialDate.MatchString(s) {
		layout := "2006-01-02"[:len(s)]
		if _, err := time.Parse(layout, s); err != nil {
			return fieldErr(p, "%q is not a valid date", s)
		}
		return nil
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return fieldErr(p, "%q is not ISO 8601 (YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339)", s)
	}
	return nil
}

func checkLanguage(p, s string) error {
	tag, err := language.Parse(s)
	if err != nil {
		return fieldErr(p, "%q is not a BCP 47 language tag", s)
	}
	if tag.String() != s {
		return fieldErr(p, "%q is not in canonical form: use %q", s, tag.String())
	}
	return nil
}

func checkMediaType(p, s, prefix string) error {
	if s == "" {
		return fieldErr(p, "is required")
	}
	mt, params, err := mime.ParseMediaType(s)
	if err != nil || len(params) != 0 || mt != s || !strings.HasPrefix(mt, prefix) {
		return fieldErr(p, "%q is not a %smedia type in lower case without parameters", s, prefix)
	}
	return nil
}

func checkHTTPURL(p, s string) error {
	if len(s) > MaxRef {
		return fieldErr(p, "longer than %d bytes", MaxRef)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fieldErr(p, "%q is not an http or https URL", s)
	}
	return nil
}

// checkDID checks a did:key; required says whether "" is an error.
func checkDID(p, s string, required bool) error {
	if s == "" {
		if required {
			return fieldErr(p, "is required")
		}
		return nil
	}
	if _, err := PublicKeyFromDID(s); err != nil {
		return fieldErr(p, "%q is not an Ed25519 did:key", s)
	}
	return nil
}

// checkRef checks a reference: a did:key, a CID, or an http(s) URL.
func checkRef(p, s string) error {
	switch {
	case s == "":
		return fieldErr(p, "is required")
	case len(s) > MaxRef:
		return fieldErr(p, "longer than %d bytes", MaxRef)
	case strings.HasPrefix(s, "did:"):
		return checkDID(p, s, true)
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		return checkHTTPURL(p, s)
	}
	if _, err := cid.Decode(s); err != nil {
		return fieldErr(p, "%q is not a did:key, CID or http(s) URL", s)
	}
	return nil
}

func checkRefs(p string, refs []string, max int) error {
	if len(refs) > max {
		return fieldErr(p, "at most %d entries", max)
	}
	for i, r := range refs {
		if r == PublicAudience {
			continue
		}
		if err := checkRef(index(p, i), r); err != nil {
			return err
		}
	}
	return nil
}

// checkPeerID checks a libp2p peer ID in its text forms: base58btc
// multihash ("12D3KooW…", "Qm…") or a CIDv1 with the libp2p-key codec.
func checkPeerID(p, s string) error {
	if s == "" {
		return fieldErr(p, "is required")
	}
	if h, err := mh.FromB58String(s); err == nil && len(h) > 0 {
		return nil
	}
	if c, err := cid.Decode(s); err == nil && c.Type() == 0x72 {
		return nil
	}
	return fieldErr(p, "%q is not a libp2p peer ID", s)
}

// parseBlockCID parses the CID of an activity block (see Block).
func parseBlockCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%q is not a CID", s)
	}
	if c.Version() != 1 || c.Type() != CodecJSON || c.Prefix().MhType != mh.SHA2_256 {
		return cid.Undef, fmt.Errorf("%q is not an activity CID (CIDv1, json, sha2-256)", s)
	}
	if c.String() != s {
		return cid.Undef, fmt.Errorf("%q is not in canonical base32 form", s)
	}
	return c, nil
}
