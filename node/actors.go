package node

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
)

// ActorInfo is what the node knows of an actor, local or remote.
type ActorInfo struct {
	DID      string `json:"did"`
	Type     string `json:"type"`
	Username string `json:"username"`
	Handle   string `json:"handle"`
	Name     string `json:"name,omitempty"`
	Summary  string `json:"summary,omitempty"`
	Node     string `json:"node"`
	Local    bool   `json:"local"`
	Seq      uint64 `json:"seq"`
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// CreateActor makes a new local actor — a Person, or a Group for a
// community — with its own Ed25519 key, and publishes its profile (an Update of itself) as the
// first entry of its log. Usernames are unique on the node, across people
// and communities.
func (n *Node) CreateActor(ctx context.Context, username, name, summary string, typ activity.ActorType) (ActorInfo, error) {
	if !usernamePattern.MatchString(username) {
		return ActorInfo{}, invalidf("username %q: use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", username)
	}
	if typ != activity.Person && typ != activity.Group {
		return ActorInfo{}, invalidf("actor type %q: want Person or Group", typ)
	}
	var exists int
	if err := n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM local_actors WHERE username = ?`, username).Scan(&exists); err != nil {
		return ActorInfo{}, fmt.Errorf("create actor: %w", err)
	}
	if exists > 0 {
		return ActorInfo{}, &Error{Kind: KindConflict, Msg: fmt.Sprintf("%s@%s exists already", username, n.repo.PeerID())}
	}
	key, err := activity.GenerateKey()
	if err != nil {
		return ActorInfo{}, fmt.Errorf("create actor: %w", err)
	}
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	now := time.Now().UTC()
	// The key is stored in the transaction that stores the profile: a
	// profile that fails leaves no actor behind.
	insertKey := func(tx *sql.Tx) error {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM local_actors WHERE username = ?`, username).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return &Error{Kind: KindConflict, Msg: fmt.Sprintf("%s@%s exists already", username, n.repo.PeerID())}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO local_actors (did, username, type, key, created) VALUES (?, ?, ?, ?, ?)`,
			did, username, string(typ), []byte(key), now.Format(time.RFC3339Nano))
		return err
	}
	profile := &activity.Actor{ID: did, Type: typ, PreferredUsername: username, Name: name, Summary: summary, Node: n.repo.PeerID().String(), Published: now}
	if _, err := n.appendSigned(ctx, did, key, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Actor: profile}}, insertKey); err != nil {
		if KindOf(err) == KindInternal {
			return ActorInfo{}, fmt.Errorf("create actor %s: %w", username, err)
		}
		return ActorInfo{}, err
	}
	if typ == activity.Group {
		n.subscribe(did)
	}
	return n.Actor(ctx, did)
}

// Actors lists the actors the node knows; local ones first.
func (n *Node) Actors(ctx context.Context, localOnly bool) ([]ActorInfo, error) {
	q := `SELECT a.did, a.type, a.username, a.name, a.summary, a.node, a.seq, l.did IS NOT NULL
		FROM actors a LEFT JOIN local_actors l ON l.did = a.did`
	if localOnly {
		q += ` WHERE l.did IS NOT NULL`
	}
	q += ` ORDER BY l.did IS NULL, a.username`
	rows, err := n.db.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list actors: %w", err)
	}
	defer rows.Close()
	out := []ActorInfo{}
	for rows.Next() {
		var a ActorInfo
		if err := rows.Scan(&a.DID, &a.Type, &a.Username, &a.Name, &a.Summary, &a.Node, &a.Seq, &a.Local); err != nil {
			return nil, err
		}
		a.Handle = a.Username + "@" + a.Node
		out = append(out, a)
	}
	return out, rows.Err()
}

// Actor finds one known actor by DID, handle (name@node) or, for local
// actors, bare username.
func (n *Node) Actor(ctx context.Context, ref string) (ActorInfo, error) {
	did, err := n.lookupDID(ctx, ref)
	if err != nil {
		return ActorInfo{}, err
	}
	var a ActorInfo
	err = n.db.db.QueryRowContext(ctx, `SELECT a.did, a.type, a.username, a.name, a.summary, a.node, a.seq,
		EXISTS (SELECT 1 FROM local_actors l WHERE l.did = a.did) FROM actors a WHERE a.did = ?`, did).
		Scan(&a.DID, &a.Type, &a.Username, &a.Name, &a.Summary, &a.Node, &a.Seq, &a.Local)
	if errors.Is(err, sql.ErrNoRows) {
		return ActorInfo{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no actor %s known here", ref)}
	}
	if err != nil {
		return ActorInfo{}, fmt.Errorf("actor %s: %w", ref, err)
	}
	a.Handle = a.Username + "@" + a.Node
	return a, nil
}

// lookupDID resolves a reference to an actor the node already knows.
func (n *Node) lookupDID(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "did:key:") {
		if _, err := activity.PublicKeyFromDID(ref); err != nil {
			return "", invalidf("%q is not a valid did:key: %v", ref, err)
		}
		return ref, nil
	}
	name, node, hasNode := strings.Cut(ref, "@")
	if !hasNode || node == n.repo.PeerID().String() {
		var did string
		err := n.db.db.QueryRowContext(ctx, `SELECT did FROM local_actors WHERE username = ?`, name).Scan(&did)
		if err == nil {
			return did, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		if !hasNode {
			return "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no local actor %q (see `lyceum actor ls`)", name)}
		}
	}
	var did string
	err := n.db.db.QueryRowContext(ctx, `SELECT did FROM actors WHERE username = ? AND node = ?`, name, node).Scan(&did)
	if errors.Is(err, sql.ErrNoRows) {
		return "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no actor %s known here", ref)}
	}
	return did, err
}

// localKey returns the private key of a local actor.
func (n *Node) localKey(ctx context.Context, did string) (ed25519.PrivateKey, error) {
	var key []byte
	err := n.db.queryRow(ctx, `SELECT key FROM local_actors WHERE did = ?`, did).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &Error{Kind: KindInvalid, Msg: fmt.Sprintf("%s is not an actor of this node: only its origin can sign for it", did)}
	}
	if err != nil {
		return nil, err
	}
	return ed25519.PrivateKey(key), nil
}

// defaultActor picks the actor a command acts as: the one named, or the
// node's only Person.
func (n *Node) defaultActor(ctx context.Context, as string) (string, error) {
	if as != "" {
		did, err := n.lookupDID(ctx, as)
		if err != nil {
			return "", err
		}
		if _, err := n.localKey(ctx, did); err != nil {
			return "", err
		}
		return did, nil
	}
	dids, err := n.db.strings(ctx, `SELECT did FROM local_actors WHERE type = 'Person'`)
	if err != nil {
		return "", err
	}
	switch len(dids) {
	case 0:
		return "", invalidf("this node has no person yet: create one with `lyceum actor create NAME`")
	case 1:
		return dids[0], nil
	}
	return "", invalidf("this node has several people: say which with --as NAME")
}
