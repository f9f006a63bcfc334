package social_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

func TestCommentsAreCheckedKeptOldestFirstAndDeleted(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	alice := r.actor(t, "alice", activity.Person)
	bob := r.actor(t, "bob", activity.Person)
	maths := r.actor(t, "maths", activity.Group)
	res := r.post(t, "alice", "Fractions", "maths")
	gone := r.post(t, "alice", "Withdrawn", "")
	if _, err := r.svc.DeleteResource(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  api.CommentRequest
		want api.Kind
	}{
		{"an empty comment is invalid", api.CommentRequest{As: "bob", Resource: res.ID}, api.KindInvalid},
		{"a blank comment is invalid", api.CommentRequest{As: "bob", Resource: res.ID, Content: " \n\t "}, api.KindInvalid},
		{"a comment of 5,001 characters is invalid", api.CommentRequest{As: "bob", Resource: res.ID, Content: strings.Repeat("é", 5001)}, api.KindInvalid},
		{"HTML is invalid", api.CommentRequest{As: "bob", Resource: res.ID, Content: "<script>alert(1)</script>"}, api.KindInvalid},
		{"a resource ID must be a CID", api.CommentRequest{As: "bob", Resource: "fractions", Content: "Nice"}, api.KindInvalid},
		{"an unknown resource is not found", api.CommentRequest{As: "bob", Resource: "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4", Content: "Nice"}, api.KindNotFound},
		{"a deleted resource is not found", api.CommentRequest{As: "bob", Resource: gone.ID, Content: "Nice"}, api.KindNotFound},
		{"an unknown actor is not found", api.CommentRequest{As: "nobody", Resource: res.ID, Content: "Nice"}, api.KindNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.svc.Comment(ctx, tc.req); api.KindOf(err) != tc.want {
				t.Fatalf("err %v, want kind %s", err, tc.want)
			}
		})
	}
	long := strings.Repeat("é", 5000)
	first, err := r.svc.Comment(ctx, api.CommentRequest{As: "bob", Resource: res.ID, Content: "  " + long + "\n"})
	if err != nil {
		t.Fatalf("a comment of 5,000 characters once trimmed: %v", err)
	}
	second, err := r.svc.Comment(ctx, api.CommentRequest{As: "alice", Resource: res.ID, Content: "Thanks, *Bob*: a < b"})
	if err != nil {
		t.Fatal(err)
	}
	// Bob's note goes to the community and copies the resource's author;
	// Alice's, on her own resource, copies nobody.
	for _, tc := range []struct {
		id     string
		to, cc []string
	}{
		{first.ID, []string{activity.PublicAudience, maths.DID}, []string{alice.DID}},
		{second.ID, []string{activity.PublicAudience, maths.DID}, nil},
	} {
		e, err := r.log.Get(ctx, cid.MustParse(tc.id))
		if err != nil {
			t.Fatal(err)
		}
		if n := e.Act.Object.Note; e.Act.Type != activity.TypeCreate || n == nil || n.InReplyTo != res.ID ||
			!reflect.DeepEqual(e.Act.To, tc.to) || !slices.Equal(e.Act.CC, tc.cc) {
			t.Fatalf("activity %+v, want a Create{Note} to %v cc %v", e.Act, tc.to, tc.cc)
		}
	}
	cs, err := r.svc.Comments(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Comment{
		{ID: first.ID, Resource: res.ID, Author: bob.DID, AuthorName: "The bob", AuthorHandle: bob.Handle, Content: long},
		{ID: second.ID, Resource: res.ID, Author: alice.DID, AuthorName: "The alice", AuthorHandle: alice.Handle, Content: "Thanks, *Bob*: a < b"},
	}
	for i := range cs {
		if cs[i].Published.IsZero() {
			t.Fatalf("comment %d has no date", i)
		}
		cs[i].Published = want[i].Published
	}
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("comments %+v\nwant %+v", cs, want)
	}
	if err := r.svc.DeleteComment(ctx, "alice", first.ID); api.KindOf(err) != api.KindForbidden {
		t.Fatalf("alice deleting bob's comment: %v, want forbidden", err)
	}
	if err := r.svc.DeleteComment(ctx, "bob", first.ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.svc.Comments(ctx, res.ID); len(cs) != 1 || cs[0].ID != second.ID {
		t.Fatalf("after the delete: %+v", cs)
	}
	if err := r.svc.DeleteComment(ctx, "bob", first.ID); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("deleting twice: %v, want not found", err)
	}
}
