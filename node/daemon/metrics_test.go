package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/daemon"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// series is a row of docs/METRICS.md's table.
type series struct{ name, typ, when, panel string }

// documentedSeries reads the table of docs/METRICS.md.
func documentedSeries(tb testing.TB) map[string]series {
	tb.Helper()
	data, err := os.ReadFile("../../docs/METRICS.md")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]series{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `lyceum_") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 6 {
			tb.Fatalf("METRICS.md: want 6 columns: %s", line)
		}
		s := series{name: strings.Trim(strings.TrimSpace(cells[0]), "`"), typ: strings.TrimSpace(cells[1]),
			when: strings.TrimSpace(cells[3]), panel: strings.TrimSpace(cells[5])}
		if _, dup := out[s.name]; dup {
			tb.Errorf("METRICS.md lists %s twice", s.name)
		}
		out[s.name] = s
	}
	if len(out) == 0 {
		tb.Fatal("METRICS.md has no series")
	}
	return out
}

// scrape GETs /metrics and returns the type of each family present.
func scrape(tb testing.TB, base string) map[string]string {
	tb.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	types := map[string]string{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return types
}

// A node that published, searched (its HQ answering over libp2p) and
// collected garbage has on /metrics every series docs/METRICS.md lists,
// with its type: all but those only a providing node or a panic brings,
// and the protocol requests, which its HQ has.
func TestMetricsHaveEveryDocumentedSeries(t *testing.T) {
	hqRepo, _ := mustRepo(t, nil)
	hq, err := daemon.New(hqRepo, daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, hq)
	repo, _ := mustRepo(t, func(c *node.Config) {
		c.Gateway.PublicURL = "https://lyceum.test"
		c.Search.HQs = []string{nodetest.Addr(hq.Node())}
	})
	d, err := daemon.New(repo, daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	n := d.Node()
	nodetest.MustPerson(t, n, "ada")
	nodetest.MustPublish(t, n, "", "Fractions")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Search().WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, d.URL()+"/api/v1/search?q=fractions", repo.APIToken()); status != http.StatusOK {
		t.Fatalf("search: %d %s", status, body)
	}
	if _, err := n.Content().GC(ctx); err != nil {
		t.Fatal(err)
	}

	have, haveHQ := scrape(t, d.URL()), scrape(t, hq.URL())
	for _, s := range documentedSeries(t) {
		got := have
		switch s.when {
		case "providing", "panic":
			continue
		case "served":
			got = haveHQ
		case "always", "online", "bridge", "request":
		default:
			t.Errorf("%s: unknown When %q", s.name, s.when)
			continue
		}
		if typ, ok := got[s.name]; !ok {
			t.Errorf("%s (%s) is not on /metrics", s.name, s.when)
		} else if typ != s.typ {
			t.Errorf("%s is a %s on /metrics, a %s in METRICS.md", s.name, typ, s.typ)
		}
	}
	for name := range have {
		if _, ok := documentedSeries(t)[name]; strings.HasPrefix(name, "lyceum_") && !ok {
			t.Errorf("%s is on /metrics but not in docs/METRICS.md", name)
		}
	}
}

// The Grafana dashboard parses, has a Prometheus data source variable,
// queries documented series only, and has every panel METRICS.md names.
func TestTheGrafanaDashboardUsesDocumentedSeries(t *testing.T) {
	data, err := os.ReadFile("../../contrib/grafana/lyceum.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct{ Name, Type, Query any } `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("lyceum.json: %v", err)
	}
	if dash.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or more", dash.SchemaVersion)
	}
	hasDS := false
	for _, v := range dash.Templating.List {
		hasDS = hasDS || (v.Type == "datasource" && v.Query == "prometheus")
	}
	if !hasDS {
		t.Error("no Prometheus data source variable")
	}
	docs := documentedSeries(t)
	titles := map[string]bool{}
	used := map[string]bool{}
	name := regexp.MustCompile(`lyceum_[a-z0-9_]+`)
	for _, p := range dash.Panels {
		titles[p.Title] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				base := m
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if s, ok := docs[strings.TrimSuffix(m, suf)]; ok && s.typ == "histogram" {
						base = s.name
					}
				}
				if _, ok := docs[base]; !ok {
					t.Errorf("panel %q queries %s, which METRICS.md does not list", p.Title, m)
				}
				used[base] = true
			}
		}
	}
	for _, s := range docs {
		if !titles[s.panel] {
			t.Errorf("%s: METRICS.md names panel %q, which the dashboard lacks", s.name, s.panel)
		}
		if !used[s.name] {
			t.Errorf("%s: no panel of the dashboard queries it", s.name)
		}
	}
}
