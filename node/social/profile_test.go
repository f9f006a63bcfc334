package social_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// heldFiles is a content store that holds the files it lists.
type heldFiles struct {
	mu     sync.Mutex
	held   []string
	pinned []string
}

func (f *heldFiles) Pin(_ context.Context, c cid.Cid) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pinned = append(f.pinned, c.String())
	return nil
}

func (f *heldFiles) Size(context.Context, cid.Cid) (int64, error) { return 1, nil }

func (f *heldFiles) Holds(_ context.Context, c cid.Cid) (bool, error) {
	return slices.Contains(f.held, c.String()), nil
}

const (
	iconCID  = "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4"
	otherCID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
)

func TestProfileCountsFollowsResourcesAndTheViewer(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	alice := r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	r.actor(t, "carol", activity.Person)
	maths := r.actor(t, "maths", activity.Group)
	r.follow(t, "bob", "alice")
	r.follow(t, "carol", "alice")
	r.follow(t, "alice", "maths")
	r.post(t, "alice", "Fractions", "")
	r.post(t, "alice", "Geometry", "maths")
	gone := r.post(t, "alice", "Withdrawn", "")
	if _, err := r.svc.DeleteResource(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ref, viewer string
		followers         int
		following         int
		resources         int
		followed          bool
	}{
		{"a person followed by the viewer", "alice", "bob", 2, 1, 2, true},
		{"a person not followed by the viewer", alice.Handle, "maths", 2, 1, 2, false},
		{"a person seen by nobody", alice.DID, "", 2, 1, 2, false},
		{"a community counts its members and posts", "maths", "alice", 1, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.svc.Profile(ctx, tc.ref, tc.viewer)
			if err != nil {
				t.Fatal(err)
			}
			if p.Followers != tc.followers || p.Following != tc.following || p.Resources != tc.resources || p.FollowedByViewer != tc.followed {
				t.Fatalf("profile %+v", p)
			}
		})
	}
	if p, _ := r.svc.Profile(ctx, "maths", ""); p.DID != maths.DID || p.Name != "The maths" {
		t.Fatalf("profile of maths: %+v", p.Actor)
	}
	if _, err := r.svc.Profile(ctx, "nobody", ""); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("unknown actor: %v", err)
	}
	if _, err := r.svc.Profile(ctx, "alice", "nobody"); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("unknown viewer: %v", err)
	}
}

func TestUpdateActorSignsANewProfileWithAHeldIcon(t *testing.T) {
	ctx := context.Background()
	files := &heldFiles{held: []string{iconCID}}
	r := mustRoomWith(t, files)
	alice := r.actor(t, "alice", activity.Person)
	a, err := r.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: " Alice Martin ", Summary: "Teaches maths.", IconCID: iconCID, IconType: "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Alice Martin" || a.Summary != "Teaches maths." || a.Username != "alice" || a.Seq != alice.Seq+1 {
		t.Fatalf("updated actor %+v", a)
	}
	if !slices.Contains(files.pinned, iconCID) {
		t.Fatal("the icon was not pinned")
	}
	icon := func() string {
		p, err := r.svc.Profile(ctx, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		return p.IconCID
	}
	if icon() != iconCID {
		t.Fatalf("icon %q, want %s", icon(), iconCID)
	}
	// An update that names no icon keeps it; RemoveIcon clears it.
	if _, err := r.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: "Alice M."}); err != nil || icon() != iconCID {
		t.Fatalf("icon %q after a rename (%v), want it kept", icon(), err)
	}
	head, _, _ := r.log.Head(ctx, alice.DID)
	if es, _ := r.log.After(ctx, 0, 100); es[len(es)-1].Act.Seq != head || es[len(es)-1].Act.Object.Actor.Icon.MediaType != "image/png" {
		t.Fatalf("last entry %+v", es[len(es)-1].Act)
	}
	if _, err := r.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", RemoveIcon: true}); err != nil || icon() != "" {
		t.Fatalf("icon %q after removing it (%v)", icon(), err)
	}
	for _, tc := range []struct {
		name string
		req  api.ActorUpdate
		want api.Kind
	}{
		{"an SVG icon is invalid", api.ActorUpdate{As: "alice", IconCID: iconCID, IconType: "image/svg+xml"}, api.KindInvalid},
		{"an icon without a type is invalid", api.ActorUpdate{As: "alice", IconCID: iconCID}, api.KindInvalid},
		{"an icon the node does not hold is invalid", api.ActorUpdate{As: "alice", IconCID: otherCID, IconType: "image/png"}, api.KindInvalid},
		{"an icon that is no CID is invalid", api.ActorUpdate{As: "alice", IconCID: "avatar.png", IconType: "image/png"}, api.KindInvalid},
		{"a new icon and no icon at once is invalid", api.ActorUpdate{As: "alice", IconCID: iconCID, IconType: "image/png", RemoveIcon: true}, api.KindInvalid},
		{"a name of 501 characters is invalid", api.ActorUpdate{As: "alice", Name: strings.Repeat("a", 501)}, api.KindInvalid},
		{"HTML in a summary is invalid", api.ActorUpdate{As: "alice", Summary: "<b>hi</b>"}, api.KindInvalid},
		{"an unknown actor is not found", api.ActorUpdate{As: "nobody", Name: "X"}, api.KindNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.svc.UpdateActor(ctx, tc.req); api.KindOf(err) != tc.want {
				t.Fatalf("err %v, want kind %s", err, tc.want)
			}
		})
	}
	noStore := mustRoom(t)
	noStore.actor(t, "alice", activity.Person)
	if _, err := noStore.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", IconCID: iconCID, IconType: "image/png"}); api.KindOf(err) != api.KindUnavailable {
		t.Fatalf("an icon without a content store: %v, want unavailable", err)
	}
}
