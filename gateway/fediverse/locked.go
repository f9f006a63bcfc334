package fediverse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds locked actors: a bridge policy, kept in fediverse.db
// (it is not part of the signed Lyceum profile). A locked actor says
// manuallyApprovesFollowers: true, and a Follow of it waits as a request
// until the node's owner approves it (Accept) or rejects it (Reject).
// Unlocking approves the requests still waiting, as Mastodon does.

// isLocked reports whether a bridged actor URL is locked.
func (b *Bridge) isLocked(ctx context.Context, actorURL string) bool {
	return b.db.count(ctx, `SELECT count(*) FROM locked WHERE actor = ?`, actorURL) > 0
}

// SetLocked locks or unlocks a local actor (person, community or
// collection) and tells its followers of the change with an Update of the
// actor. Unlocking approves the waiting follow requests.
func (b *Bridge) SetLocked(ctx context.Context, username string, locked bool) error {
	la, err := b.localActor(ctx, username)
	if err != nil {
		return err
	}
	actorURL := b.actorURL(la.Username)
	if b.isLocked(ctx, actorURL) == locked {
		return nil
	}
	if locked {
		_, err = b.db.db.Exec(ctx, `INSERT OR IGNORE INTO locked (actor, since) VALUES (?, ?)`, actorURL, now())
	} else {
		_, err = b.db.db.Exec(ctx, `DELETE FROM locked WHERE actor = ?`, actorURL)
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", username, err)
	}
	if !locked {
		pending, err := b.db.strings(ctx, `SELECT remote FROM followers WHERE local = ? AND state = 'pending' ORDER BY since`, actorURL)
		if err != nil {
			return err
		}
		for _, remote := range pending {
			if err := b.Approve(ctx, username, remote); err != nil {
				return err
			}
		}
	}
	return b.sendActorUpdate(ctx, la)
}

// FollowRequest is a Follow of a locked actor waiting for approval.
type FollowRequest struct {
	RemoteActor
	FollowID string `json:"follow_id"`
	Since    string `json:"since"`
}

// Requests lists the follow requests waiting for a local actor, oldest
// first.
func (b *Bridge) Requests(ctx context.Context, username string) ([]FollowRequest, error) {
	la, err := b.localActor(ctx, username)
	if err != nil {
		return nil, err
	}
	rows, err := b.db.db.Query(ctx, `SELECT f.follow_id, f.since, `+remoteColsOf("r")+` FROM followers f
		JOIN remote_actors r ON r.id = f.remote WHERE f.local = ? AND f.state = 'pending' ORDER BY f.since`, b.actorURL(la.Username))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []FollowRequest{}
	for rows.Next() {
		var fr FollowRequest
		var fetched string
		a := &fr.RemoteActor
		if err := rows.Scan(&fr.FollowID, &fr.Since, &a.ID, &a.Type, &a.Username, &a.Name, &a.Inbox, &a.SharedInbox,
			&a.KeyID, &a.KeyPEM, &a.Software, &fetched); err != nil {
			return nil, err
		}
		out = append(out, fr)
	}
	return out, rows.Err()
}

func remoteColsOf(t string) string {
	return t + ".id, " + t + ".type, " + t + ".username, " + t + ".name, " + t + ".inbox, " + t + ".shared_inbox, " +
		t + ".key_id, " + t + ".key_pem, " + t + ".software, " + t + ".fetched"
}

// pendingFollow finds a waiting request of remote to follow a local actor.
func (b *Bridge) pendingFollow(ctx context.Context, username, remote string) (actorURL, followID string, err error) {
	la, err := b.localActor(ctx, username)
	if err != nil {
		return "", "", err
	}
	actorURL = b.actorURL(la.Username)
	err = b.db.db.QueryRow(ctx, `SELECT follow_id FROM followers WHERE local = ? AND remote = ? AND state = 'pending'`,
		actorURL, remote).Scan(&followID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", &api.Error{Kind: api.KindNotFound, Msg: fmt.Sprintf("no follow request from %s to %s", remote, username)}
	}
	return actorURL, followID, err
}

// Approve accepts a waiting follow request: the remote actor becomes a
// follower and its server gets Accept{Follow}.
func (b *Bridge) Approve(ctx context.Context, username, remote string) error {
	return b.answerRequest(ctx, username, remote, "Accept",
		`UPDATE followers SET state = 'accepted' WHERE local = ? AND remote = ?`)
}

// Reject refuses a waiting follow request: the request is forgotten and
// its server gets Reject{Follow}.
func (b *Bridge) Reject(ctx context.Context, username, remote string) error {
	return b.answerRequest(ctx, username, remote, "Reject",
		`DELETE FROM followers WHERE local = ? AND remote = ?`)
}

// answerRequest sends Accept or Reject for a waiting follow request, then
// runs change on the follower's row (local, remote). The answer is queued
// first: a crash in between leaves the request waiting, and answering it
// again sends a second answer, which receivers take as a repeat.
func (b *Bridge) answerRequest(ctx context.Context, username, remote, answer, change string) error {
	actorURL, followID, err := b.pendingFollow(ctx, username, remote)
	if err != nil {
		return err
	}
	ra, err := b.db.remote(ctx, remote)
	if err != nil {
		return fmt.Errorf("follower %s: %w", remote, err)
	}
	if err := b.emit(ctx, actorURL, followAnswer(answer, actorURL, remote, followID), "", []string{ra.Inbox}); err != nil {
		return err
	}
	_, err = b.db.db.Exec(ctx, change, actorURL, remote)
	return err
}

// followAnswer is Accept or Reject with the Follow embedded, as Mastodon
// expects.
func followAnswer(typ, actorURL, remote, followID string) obj {
	return obj{"@context": asContext, "type": typ, "actor": actorURL, "to": []string{remote},
		"object": obj{"id": followID, "type": "Follow", "actor": remote, "object": actorURL}}
}
