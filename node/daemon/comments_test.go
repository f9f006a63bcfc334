package daemon

import "testing"

func TestHTMLTextKeepsTheTextAndItsLines(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<p>Hello</p><p>world &amp; co</p>", "Hello\n\nworld & co"},
		{"<p>one<br>two<br/>three</p>", "one\ntwo\nthree"},
		{`<p><span class="h-card"><a href="https://m.example/@ada" class="u-url mention">@<span>ada</span></a></span> thanks!</p>`, "@ada thanks!"},
		{"<p>a</p>\n\n\n<p>b</p>", "a\n\nb"},
		{"<script>alert(1)</script><style>p{}</style>kept", "kept"},
		{"&lt;b&gt;not bold&lt;/b&gt;", "<b>not bold</b>"},
		{"<ul><li>x</li><li>y</li></ul>", "x\ny"},
		{"<p>unclosed", "unclosed"},
		{"", ""},
	} {
		if got := htmlText(tt.in); got != tt.want {
			t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHandleOfAFediverseActor(t *testing.T) {
	for in, want := range map[string]string{
		"https://mastodon.example/users/ada": "ada@mastodon.example",
		"https://lemmy.example/u/bob":        "bob@lemmy.example",
		"https://pleroma.example/@carol":     "carol@pleroma.example",
		"https://solo.example/":              "solo.example",
		"not a url":                          "not a url",
	} {
		if got := handleOf(in); got != want {
			t.Errorf("handleOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{"<p>a</p>", "<script>", "&amp;&#x00;", "<br><br><br>", "<p><p><p>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if out := htmlText(s); len(out) > 4*len(s)+8 {
			t.Fatalf("%q grew to %d bytes", s, len(out))
		}
	})
}
