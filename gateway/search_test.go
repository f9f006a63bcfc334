package gateway

import (
	"errors"
	"net/url"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestSearchQueryFromURL(t *testing.T) {
	cases := []struct {
		name  string
		query string
		want  api.SearchQuery
		bad   bool
	}{
		{"facets come with the first page by default", "q=fractions", api.SearchQuery{Text: "fractions", Facets: true}, false},
		{"not with later pages", "q=fractions&page=2", api.SearchQuery{Text: "fractions", Page: 2}, false},
		{"unless asked for", "q=fractions&page=2&facets=true", api.SearchQuery{Text: "fractions", Page: 2, Facets: true}, false},
		{"and can be turned off", "facets=false", api.SearchQuery{}, false},
		{"a kind filter", "q=algebra&kind=community", api.SearchQuery{Text: "algebra", Kind: "community", Facets: true}, false},
		{"every filter", "language=fr&license=CC0-1.0&subject=0541&type=assessment&level=2&sort=newest&size=5",
			api.SearchQuery{Language: "fr", License: "CC0-1.0", Subject: "0541", Type: "assessment", Level: "2", Sort: "newest", Size: 5, Facets: true}, false},
		{"an unknown kind is refused", "kind=note", api.SearchQuery{}, true},
		{"a bad facets flag is refused", "facets=maybe", api.SearchQuery{}, true},
		{"an unknown sort is refused", "sort=random", api.SearchQuery{}, true},
		{"a page below 1 is refused", "page=0", api.SearchQuery{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SearchQueryFromURL(v)
			if tc.bad {
				var ne *api.Error
				if !errors.As(err, &ne) || ne.Kind != api.KindInvalid {
					t.Fatalf("error %v, want an invalid-input error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzSearchQueryFromURL(f *testing.F) {
	for _, s := range []string{"q=fractions", "q=%22equivalent+fractions%22&kind=resource&page=2&facets=true", "language=pt-BR&sort=popular&size=100", "page=-1", "kind=&facets="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := SearchQueryFromURL(v)
		if err != nil {
			return
		}
		switch q.Kind {
		case "", "resource", "collection", "community", "person":
		default:
			t.Errorf("accepted kind %q", q.Kind)
		}
		if q.Page < 0 || q.Size < 0 {
			t.Errorf("accepted page %d size %d", q.Page, q.Size)
		}
	})
}
