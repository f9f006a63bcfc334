package social

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// CreateActor makes a new local actor — a Person, or a Group for a
// community — with its own Ed25519 key, and publishes its profile (an
// Update of itself) as the first entry of its log. Usernames are unique
// on the node, across people and communities.
func (s *Service) CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error) {
	if !usernamePattern.MatchString(req.Username) {
		return api.Actor{}, api.Invalidf("username %s: use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", api.Quote(req.Username))
	}
	typ := activity.ActorType(firstNonEmpty(req.Type, string(activity.Person)))
	if typ != activity.Person && typ != activity.Group {
		return api.Actor{}, api.Invalidf("actor type %s: want Person or Group", api.Quote(string(typ)))
	}
	key, err := activity.GenerateKey()
	if err != nil {
		return api.Actor{}, fmt.Errorf("create actor: %w", err)
	}
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	profile := &activity.Actor{ID: did, Type: typ, PreferredUsername: req.Username, Name: req.Name, Summary: req.Summary, Node: s.peerID, Published: time.Now().UTC()}
	if _, err := s.log.CreateLocal(ctx, key, profile); err != nil {
		if api.KindOf(err) == api.KindInternal {
			return api.Actor{}, fmt.Errorf("create actor %s: %w", req.Username, err)
		}
		return api.Actor{}, err
	}
	if typ == activity.Group {
		s.net.Subscribe(did)
	}
	return s.Actor(ctx, did)
}

const actorCols = `a.did, a.type, a.username, a.name, a.summary, a.node, a.seq, l.did IS NOT NULL, coalesce(l.created, '')
	FROM actors a LEFT JOIN local_actors l ON l.did = a.did`

func scanActor(row interface{ Scan(...any) error }) (api.Actor, error) {
	var a api.Actor
	var created string
	if err := row.Scan(&a.DID, &a.Type, &a.Username, &a.Name, &a.Summary, &a.Node, &a.Seq, &a.Local, &created); err != nil {
		return a, err
	}
	a.Handle = a.Username + "@" + a.Node
	a.Created, _ = time.Parse(time.RFC3339Nano, created)
	return a, nil
}

// Actors lists the actors the node knows, local ones first.
func (s *Service) Actors(ctx context.Context, localOnly bool) ([]api.Actor, error) {
	q := `SELECT ` + actorCols
	if localOnly {
		q += ` WHERE l.did IS NOT NULL`
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY l.did IS NULL, a.username`)
	if err != nil {
		return nil, fmt.Errorf("list actors: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Actor, error) { return scanActor(rows) })
}

// Actor finds one known actor by DID, handle (name@node) or, for local
// actors, bare username.
func (s *Service) Actor(ctx context.Context, ref string) (api.Actor, error) {
	did, err := s.Resolve(ctx, ref)
	if err != nil {
		return api.Actor{}, err
	}
	a, err := scanActor(s.db.QueryRow(ctx, `SELECT `+actorCols+` WHERE a.did = ?`, did))
	if errors.Is(err, sql.ErrNoRows) {
		return api.Actor{}, api.NotFoundf("no actor %s known here", ref)
	}
	if err != nil {
		return api.Actor{}, fmt.Errorf("actor %s: %w", ref, err)
	}
	return a, nil
}

// LocalActorByName finds a local actor by username (KindNotFound if none).
func (s *Service) LocalActorByName(ctx context.Context, username string) (api.Actor, error) {
	l, err := s.log.LocalByName(ctx, username)
	if err != nil {
		return api.Actor{}, err
	}
	return s.Actor(ctx, l.DID)
}

// Resolve turns a reference to an actor the node already knows — a
// did:key, a handle name@node or a local username — into its DID.
func (s *Service) Resolve(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "did:key:") {
		if _, err := activity.PublicKeyFromDID(ref); err != nil {
			return "", api.Invalidf("%s is not a valid did:key", api.Quote(ref))
		}
		return ref, nil
	}
	name, node, hasNode := strings.Cut(ref, "@")
	if !hasNode || node == s.peerID {
		l, err := s.log.LocalByName(ctx, name)
		if err == nil {
			return l.DID, nil
		}
		if api.KindOf(err) != api.KindNotFound {
			return "", err
		}
		if !hasNode {
			return "", api.NotFoundf("no local actor %s (see `lyceum actor ls`)", api.Quote(name))
		}
	}
	var did string
	err := s.db.QueryRow(ctx, `SELECT did FROM actors WHERE username = ? AND node = ?`, name, node).Scan(&did)
	if errors.Is(err, sql.ErrNoRows) {
		return "", api.NotFoundf("no actor %s known here", ref)
	}
	return did, err
}

// actingAs picks the local actor a request acts as: the one named, or the
// node's only person.
func (s *Service) actingAs(ctx context.Context, as string) (string, error) {
	if as != "" {
		did, err := s.Resolve(ctx, as)
		if err != nil {
			return "", err
		}
		if !s.log.IsLocal(ctx, did) {
			return "", api.Invalidf("%s is not an actor of this node: only its origin can act for it", as)
		}
		return did, nil
	}
	people, err := s.log.Locals(ctx, string(activity.Person), 2)
	if err != nil {
		return "", err
	}
	switch len(people) {
	case 0:
		return "", api.Invalidf("this node has no person yet: create one with `lyceum actor create NAME`")
	case 1:
		return people[0].DID, nil
	}
	return "", api.Invalidf("this node has several people: say which with --as NAME")
}

// FollowingOf lists the DIDs a local actor follows on the Lyceum network.
func (s *Service) FollowingOf(ctx context.Context, did string) ([]string, error) {
	return s.db.Strings(ctx, `SELECT followee FROM follows WHERE follower = ? ORDER BY followee`, did)
}

// Local reports whether did is one of this node's actors.
func (s *Service) Local(ctx context.Context, did string) bool { return s.log.IsLocal(ctx, did) }
