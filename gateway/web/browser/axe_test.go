package browser_test

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeJS is axe-core (npm axe-core 4.14.1, MPL-2.0: testdata/axe-LICENSE),
// the accessibility checker every page is run through.
//
//go:embed testdata/axe.min.js
var axeJS string

// axeRun checks the document against WCAG 2.0 and 2.1, levels A and AA,
// and returns the violations.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
	.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))))`

// violation is one rule axe found broken.
type violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// axe runs axe-core on the page shown and fails the test on any
// violation, with the rule, its impact, the elements and the help.
func (b *tab) axe() {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	// The page's Content-Security-Policy allows no script but its own:
	// axe goes in through the DevTools protocol, which the policy does not
	// see. It stays loaded until the next page.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err == nil && !loaded {
		err = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS))
	}
	if err != nil {
		b.fatalf("load axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("run axe-core: %v", err)
	}
	var vs []violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.fatalf("axe-core's answer: %v", err)
	}
	if len(vs) == 0 {
		return
	}
	var sb strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&sb, "\n  %s (%s): %s — %s", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	b.t.Errorf("%s: %s: %d accessibility violations (axe-core, WCAG 2.1 A/AA):%s", b.vp.name, b.location(), len(vs), sb.String())
}
