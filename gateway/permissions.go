package gateway

import (
	"fmt"
	"net/http"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Rule is who may make one call of the JSON API. The node's API token
// ($LYCEUM_PATH/api.token, the operator's) may make every call; a
// personal API token (lyc_…) makes a call as its account, when the rule
// lets that account.
type Rule struct {
	// Public calls need no token at all.
	Public bool
	// Action is what an account's role must allow (api.Account.Can); ""
	// lets every active account.
	Action api.Action
	// ActsAs marks calls that act as a local actor (sign in its log): an
	// account acts as its own Person only. Its request's "as" (body field
	// or query parameter) is set to the account's username when left out,
	// and refused unless it names the account.
	ActsAs bool
	// Owner, for an account, checks that the resource or collection of the
	// path's {id} is its actor's.
	Owner Owned
}

// Owned is what a path's {id} names, whose owner a call checks.
type Owned string

// What a path's {id} may name.
const (
	OwnedNothing    Owned = ""
	OwnedResource   Owned = "resource"
	OwnedCollection Owned = "collection"
)

// The rules of the table below.
var (
	// public: anyone, no token.
	public = Rule{Public: true}
	// read: any account; what the node shows its people.
	read = Rule{}
	// configure: node management: the operator or an admin.
	configure = Rule{Action: api.ActionConfigure}
	// publish: acts as the caller's Person.
	publish = Rule{Action: api.ActionPublish, ActsAs: true}
)

// permissions is the permission table of the JSON API, by route pattern.
// Every route the server registers must be in it (New fails otherwise),
// except the management calls a Mounter brings (the fediverse bridge's),
// which take mountedRule. The OpenAPI document states each rule as
// x-lyceum-accounts and x-lyceum-acts-as; a test holds the two together.
var permissions = map[string]Rule{
	"GET /api/v1/openapi.json": public,
	"GET /api/v1/search":       public,

	// The node and its content.
	"GET /api/v1/id":            read,
	"POST /api/v1/connect":      configure,
	"GET /api/v1/peers":         configure,
	"GET /api/v1/stat":          configure,
	"POST /api/v1/add":          {Action: api.ActionPublish}, // the file of a resource to publish
	"GET /api/v1/cat/{cid}":     read,
	"GET /api/v1/size/{cid}":    read,
	"GET /api/v1/car/{cid}":     read,
	"POST /api/v1/car":          configure,
	"GET /api/v1/pins":          configure,
	"POST /api/v1/pins/{cid}":   configure,
	"DELETE /api/v1/pins/{cid}": configure,
	"POST /api/v1/gc":           configure,
	"POST /api/v1/backup":       configure,
	"GET /api/v1/doctor":        configure,

	// People and resources. An account makes communities (Group); a
	// person without an account needs configure (apiCreateActor).
	"POST /api/v1/actors":                   {Action: api.ActionPublish},
	"GET /api/v1/actors":                    read,
	"GET /api/v1/actors/{ref}":              read,
	"POST /api/v1/resources":                publish,
	"GET /api/v1/resources/{id}":            read,
	"PUT /api/v1/resources/{id}":            {Action: api.ActionPublish, ActsAs: true, Owner: OwnedResource},
	"DELETE /api/v1/resources/{id}":         {Action: api.ActionPublish, ActsAs: true, Owner: OwnedResource},
	"POST /api/v1/follow":                   publish,
	"POST /api/v1/unfollow":                 publish,
	"POST /api/v1/like":                     publish,
	"GET /api/v1/feed":                      read, // an account reads its own feed
	"POST /api/v1/block":                    configure,
	"POST /api/v1/repair/rebuild-views":     configure,
	"POST /api/v1/collections":              publish,
	"GET /api/v1/collections":               read,
	"GET /api/v1/collections/{id}":          read,
	"PUT /api/v1/collections/{id}":          {Action: api.ActionPublish, ActsAs: true, Owner: OwnedCollection},
	"DELETE /api/v1/collections/{id}":       {Action: api.ActionPublish, ActsAs: true, Owner: OwnedCollection},
	"POST /api/v1/collections/{id}/items":   {Action: api.ActionPublish, ActsAs: true, Owner: OwnedCollection},
	"DELETE /api/v1/collections/{id}/items": {Action: api.ActionPublish, ActsAs: true, Owner: OwnedCollection},
	// Drafts are an account's own: its token's "as" is itself; the
	// operator names the account (drafts.go).
	"GET /api/v1/drafts":         publish,
	"POST /api/v1/drafts":        publish,
	"GET /api/v1/drafts/{id}":    publish,
	"DELETE /api/v1/drafts/{id}": publish,

	// Search moderation and the index.
	"POST /api/v1/hq/delist":     configure,
	"POST /api/v1/hq/relist":     configure,
	"POST /api/v1/index/rebuild": configure,

	// The caller's own account and tokens (the operator has none).
	"GET /api/v1/me":                read,
	"GET /api/v1/me/tokens":         read,
	"POST /api/v1/me/tokens":        read,
	"DELETE /api/v1/me/tokens/{id}": read,

	// The node's accounts. The accounts room checks the acting account
	// again, in the transaction that changes it.
	"GET /api/v1/accounts":                     {Action: api.ActionReviewRegistrations},
	"POST /api/v1/accounts":                    {Action: api.ActionManageAccounts},
	"GET /api/v1/accounts/{username}":          {Action: api.ActionReviewRegistrations},
	"POST /api/v1/accounts/{username}/approve": {Action: api.ActionReviewRegistrations},
	"POST /api/v1/accounts/{username}/reject":  {Action: api.ActionReviewRegistrations},
	"PUT /api/v1/accounts/{username}/role":     {Action: api.ActionManageAccounts},
	"POST /api/v1/accounts/{username}/disable": {Action: api.ActionManageAccounts},
	"POST /api/v1/accounts/{username}/enable":  {Action: api.ActionManageAccounts},
	"PUT /api/v1/accounts/{username}/password": {Action: api.ActionManageAccounts},
	// An account's tokens: listed and revoked by itself or an admin, made
	// by itself or the operator only (a token made for another is a way
	// to act as them).
	"GET /api/v1/accounts/{username}/tokens":         read,
	"POST /api/v1/accounts/{username}/tokens":        read,
	"DELETE /api/v1/accounts/{username}/tokens/{id}": read,
	"GET /api/v1/registration":                       read,
	"PUT /api/v1/registration":                       configure,
	"GET /api/v1/invitations":                        {Action: api.ActionInvite},
	"POST /api/v1/invitations":                       {Action: api.ActionInvite},
	"DELETE /api/v1/invitations/{id}":                {Action: api.ActionInvite},
}

// mountedRule is the rule of a Mounter's management calls: the fediverse
// bridge's act for any local actor and read the node's reports, so they
// are node management.
var mountedRule = configure

// Accounts is how the OpenAPI document states which accounts may make a
// call (x-lyceum-accounts): "any", or the action their role must allow;
// "" for a public call.
func (r Rule) Accounts() string {
	switch {
	case r.Public:
		return ""
	case r.Action == "":
		return "any"
	}
	return string(r.Action)
}

// allow checks that c may make a call of rule r.
func (r Rule) allow(c caller) error {
	switch {
	case r.Public || c.operator:
		return nil
	case c.account == nil:
		return errNoToken
	case r.Action != "" && !c.account.Can(r.Action):
		return api.Errorf(api.KindForbidden, "your account (%s) may not make this call: %s", c.account.Role, forbidden[r.Action])
	}
	return nil
}

// forbidden says, for each action, who may.
var forbidden = map[api.Action]string{
	api.ActionPublish:             "it cannot publish",
	api.ActionInvite:              "only administrators and moderators invite people",
	api.ActionReviewRegistrations: "only administrators and moderators review accounts and registrations",
	api.ActionModerate:            "only administrators and moderators moderate",
	api.ActionManageAccounts:      "only administrators change accounts",
	api.ActionConfigure:           "only administrators manage the node",
}

// guardRoute wraps a route's handler: it tells who calls, checks the
// rule, and for an account on a call that acts as an actor, its "as"
// query parameter and the owner of the path's {id}.
func (s *Server) guardRoute(rule Rule, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r)
		if err == nil {
			err = rule.allow(c)
		}
		if err != nil {
			if api.KindOf(err) == api.KindUnauthorized || api.KindOf(err) == api.KindRateLimited {
				s.failAuth(w, r, err)
			} else {
				s.fail(w, withCaller(r, c), err)
			}
			return
		}
		c.rule = rule
		r = withCaller(r, c)
		if c.account != nil && rule.ActsAs {
			if err := s.actAsQuery(r, *c.account); err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.checkOwner(r, rule.Owner, *c.account); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		h(w, r)
	}
}

// actAsQuery sets the "as" query parameter of an account's call to the
// account, after checking that any "as" given names it.
func (s *Server) actAsQuery(r *http.Request, a api.Account) error {
	q := r.URL.Query()
	as := q.Get("as")
	if err := s.actAs(a, &as); err != nil {
		return err
	}
	q.Set("as", as)
	r.URL.RawQuery = q.Encode()
	return nil
}

// actAs makes *as the account's username: it may be left out, or name
// the account's Person by username, handle or DID; any other is refused.
func (s *Server) actAs(a api.Account, as *string) error {
	switch *as {
	case "", a.Username, a.Actor, a.Username + "@" + s.svc.Identity.ID().PeerID:
		*as = a.Username
		return nil
	}
	return api.Errorf(api.KindForbidden, "your API token acts as %s only: leave out \"as\" or set it to %s", a.Username, a.Username)
}

// checkOwner checks that the resource or collection of the path's {id}
// is the account's actor's.
func (s *Server) checkOwner(r *http.Request, what Owned, a api.Account) error {
	var owner string
	id := r.PathValue("id")
	switch what {
	case OwnedNothing:
		return nil
	case OwnedResource:
		if s.svc.Resources == nil {
			return api.Errorf(api.KindForbidden, "this node cannot tell who owns resource %s", id)
		}
		v, err := s.svc.Resources.ShowResource(r.Context(), id)
		if err != nil {
			return err
		}
		owner = v.Author
	case OwnedCollection:
		if s.svc.Collections == nil {
			return api.Errorf(api.KindForbidden, "this node cannot tell who owns collection %s", id)
		}
		v, err := s.svc.Collections.ShowCollection(r.Context(), id)
		if err != nil {
			return err
		}
		owner = v.Owner
	}
	if owner == "" || owner != a.Actor {
		return api.Errorf(api.KindForbidden, "%s %s is not yours: your API token acts as %s only", what, id, a.Username)
	}
	return nil
}

// actAsBody applies the rule's ActsAs to a request body just read: for an
// account, the body's "as" must name it (and is set to it). A call that
// acts as an actor with a body that names none is refused, so that a new
// route cannot forget it.
func (s *Server) actAsBody(r *http.Request, body any) error {
	c := callerOf(r)
	if c.account == nil || !c.rule.ActsAs {
		return nil
	}
	as := asField(body)
	if as == nil {
		return fmt.Errorf("route %s %s acts as an actor, but its body (%T) names none", r.Method, r.URL.Path, body)
	}
	return s.actAs(*c.account, as)
}

// asField is the "as" of the request bodies that act as a local actor.
func asField(body any) *string {
	switch b := body.(type) {
	case *api.PublishRequest:
		return &b.As
	case *api.DraftRequest:
		return &b.As
	case *api.FollowRequest:
		return &b.As
	case *api.LikeRequest:
		return &b.As
	case *api.CollectionRequest:
		return &b.As
	case *api.CollectionItemRequest:
		return &b.As
	case *api.CommentRequest:
		return &b.As
	case *api.ActorUpdate:
		return &b.As
	}
	return nil
}

// ruleOf is the rule of a route in the permission table.
func ruleOf(method, path string) (Rule, bool) {
	r, ok := permissions[method+" "+path]
	return r, ok
}
