package social_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

func (r room) actor(tb testing.TB, name string, typ activity.ActorType) api.Actor {
	tb.Helper()
	a, err := r.svc.CreateActor(context.Background(), api.CreateActorRequest{Username: name, Name: "The " + name, Type: string(typ)})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// post publishes a link as a local actor, in a community if one is
// named.
func (r room) post(tb testing.TB, as, title, community string, derivedFrom ...string) api.Published {
	tb.Helper()
	p, err := r.svc.Publish(context.Background(), api.PublishRequest{As: as, URL: "https://example.org/" + title, Title: title,
		License: "CC0-1.0", Language: "en", Community: community, DerivedFrom: derivedFrom})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func (r room) follow(tb testing.TB, as, ref string) {
	tb.Helper()
	if _, err := r.svc.Follow(context.Background(), api.FollowRequest{As: as, Actor: ref}); err != nil {
		tb.Fatal(err)
	}
}

// ids are the resource IDs of items, with their versions after a colon
// when not 1.
func ids(items []api.FeedItem) []string {
	out := []string{}
	for _, it := range items {
		id := it.ResourceID
		if it.Version != 1 {
			id += fmt.Sprintf(":%d", it.Version)
		}
		out = append(out, id)
	}
	return out
}

func TestResourcesListsTheLatestLiveVersionsNewestFirst(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	alice := r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	maths := r.actor(t, "maths", activity.Group)
	a := r.post(t, "alice", "Fractions", "")
	b := r.post(t, "bob", "Decimals", "")
	c := r.post(t, "alice", "Geometry", "maths")
	if _, err := r.svc.UpdateResource(ctx, a.ID, api.PublishRequest{Title: "Fractions, revised"}); err != nil {
		t.Fatal(err)
	}
	gone := r.post(t, "bob", "Withdrawn", "")
	if _, err := r.svc.DeleteResource(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    api.ResourceQuery
		want []string
	}{
		{"everything lists each live resource once, by its latest version", api.ResourceQuery{}, []string{a.ID + ":2", c.ID, b.ID}},
		{"an author's by name", api.ResourceQuery{Author: "alice"}, []string{a.ID + ":2", c.ID}},
		{"an author's by DID", api.ResourceQuery{Author: alice.DID}, []string{a.ID + ":2", c.ID}},
		{"a community's by handle", api.ResourceQuery{Community: maths.Handle}, []string{c.ID}},
		{"an author's in a community", api.ResourceQuery{Author: "bob", Community: "maths"}, []string{}},
		{"a page of one", api.ResourceQuery{Limit: 1}, []string{a.ID + ":2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.svc.Resources(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) {
				t.Fatalf("got %v, want %v", ids(got), tc.want)
			}
		})
	}
	page, err := r.svc.Resources(ctx, api.ResourceQuery{Limit: 2})
	if err != nil || len(page) != 2 || page[0].Title != "Fractions, revised" || page[1].CommunityHandle != maths.Handle {
		t.Fatalf("first page %+v, %v", page, err)
	}
	next, err := r.svc.Resources(ctx, api.ResourceQuery{Limit: 2, Before: page[1].Published})
	if err != nil || !reflect.DeepEqual(ids(next), []string{b.ID}) {
		t.Fatalf("next page %v, %v", ids(next), err)
	}
	if _, err := r.svc.Resources(ctx, api.ResourceQuery{Author: "nobody"}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("unknown author: %v, want not found", err)
	}
}

func TestFeedOfShowsWhatOneActorFollowsJoinedAndPublished(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		r.actor(t, name, activity.Person)
	}
	r.actor(t, "maths", activity.Group)
	r.follow(t, "bob", "alice")
	r.follow(t, "bob", "maths")
	a := r.post(t, "alice", "Fractions", "")
	d1 := r.post(t, "dave", "Geometry", "maths")
	r.post(t, "dave", "Not for bob", "")
	c := r.post(t, "carol", "Carol's own", "")
	b := r.post(t, "bob", "Bob's own", "")
	if _, err := r.svc.UpdateResource(ctx, a.ID, api.PublishRequest{Title: "Fractions, revised"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    api.FeedQuery
		want []string
	}{
		// A resource shows once, at its latest version.
		{"an actor sees whom it follows, its communities and itself", api.FeedQuery{As: "bob"}, []string{a.ID + ":2", b.ID, d1.ID}},
		{"another actor sees only its own follows", api.FeedQuery{As: "carol"}, []string{c.ID}},
		{"the node's feed is what its actors follow", api.FeedQuery{}, []string{a.ID + ":2", d1.ID}},
		{"a page of two", api.FeedQuery{As: "bob", Limit: 2}, []string{a.ID + ":2", b.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.svc.FeedOf(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) {
				t.Fatalf("got %v, want %v", ids(got), tc.want)
			}
		})
	}
	page, _ := r.svc.FeedOf(ctx, api.FeedQuery{As: "bob", Limit: 2})
	next, err := r.svc.FeedOf(ctx, api.FeedQuery{As: "bob", Limit: 2, Before: page[1].Published})
	if err != nil || !reflect.DeepEqual(ids(next), []string{d1.ID}) {
		t.Fatalf("next page %v, %v", ids(next), err)
	}
	if _, err := r.svc.FeedOf(ctx, api.FeedQuery{As: "nobody"}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("feed of nobody: %v, want not found", err)
	}
}

func TestHasLikedIsPerActor(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	a := r.post(t, "alice", "Fractions", "")
	if _, err := r.svc.Like(ctx, api.LikeRequest{As: "bob", ID: a.ID}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		as   string
		want bool
	}{{"bob", true}, {"alice", false}, {"", false}} {
		if got, err := r.svc.HasLiked(ctx, tc.as, a.ID); err != nil || got != tc.want {
			t.Errorf("HasLiked(%q) = %v, %v; want %v", tc.as, got, err, tc.want)
		}
	}
	if _, err := r.svc.HasLiked(ctx, "nobody", a.ID); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("nobody: %v, want not found", err)
	}
}

func TestShowResourceListsTheLiveAdaptationsOfAnyVersion(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	a := r.post(t, "alice", "Fractions", "")
	b := r.post(t, "bob", "Fractions for adults", "", a.ID)
	v2, err := r.svc.UpdateResource(ctx, a.ID, api.PublishRequest{Title: "Fractions, revised"})
	if err != nil {
		t.Fatal(err)
	}
	c := r.post(t, "bob", "From the second version", "", v2.ActivityCID)
	gone := r.post(t, "bob", "Withdrawn adaptation", "", a.ID)
	if _, err := r.svc.DeleteResource(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	r.post(t, "bob", "Unrelated", "", b.ID)
	v, err := r.svc.ShowResource(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(v.AdaptedBy), []string{c.ID, b.ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("adapted by %v, want %v", got, want)
	}
	if v, err := r.svc.ShowResource(ctx, c.ID); err != nil || v.AdaptedBy == nil || len(v.AdaptedBy) != 0 {
		t.Fatalf("adaptations of a leaf: %v, %v; want []", v.AdaptedBy, err)
	}
}
