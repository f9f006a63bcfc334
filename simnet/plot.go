package simnet

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"sort"
)

// Series is one line of a chart.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is a line chart rendered as a self-contained SVG.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX                  bool
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// SVG renders the chart, 720×420 pixels.
func (c Chart) SVG() []byte {
	const (
		w, h                     = 720.0, 420.0
		left, right, top, bottom = 70.0, 20.0, 40.0, 55.0
	)
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), 0.0, math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			x := s.X[i]
			if c.LogX && x <= 0 {
				continue
			}
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
			ymax = math.Max(ymax, s.Y[i])
		}
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax, ymax = 0, 1, 1
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	tx := func(x float64) float64 {
		if c.LogX {
			return left + (math.Log10(x)-math.Log10(xmin))/(math.Log10(xmax)-math.Log10(xmin))*(w-left-right)
		}
		return left + (x-xmin)/(xmax-xmin)*(w-left-right)
	}
	ty := func(y float64) float64 { return h - bottom - (y-ymin)/(ymax-ymin)*(h-top-bottom) }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%g" y="22" font-size="15" text-anchor="middle">%s</text>`+"\n", w/2, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for i := 0; i <= 5; i++ {
		y := ymin + (ymax-ymin)*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, ty(y), w-right, ty(y), left-6, ty(y)+4, tick(y))
		var x float64
		if c.LogX {
			x = math.Pow(10, math.Log10(xmin)+(math.Log10(xmax)-math.Log10(xmin))*float64(i)/5)
		} else {
			x = xmin + (xmax-xmin)*float64(i)/5
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", tx(x), h-bottom+18, tick(x))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", (left+w-right)/2, h-12, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+h-bottom)/2, html.EscapeString(c.YLabel))
	for k, s := range c.Series {
		col := palette[k%len(palette)]
		var pts bytes.Buffer
		for i := range s.X {
			if c.LogX && s.X[i] <= 0 {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", tx(s.X[i]), ty(s.Y[i]))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"/>`+"\n", col, pts.String())
		fmt.Fprintf(&b, `<rect x="%g" y="%d" width="14" height="3" fill="%s"/><text x="%g" y="%d">%s</text>`+"\n",
			left+12, int(top)+8+16*k, col, left+32, int(top)+13+16*k, html.EscapeString(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func tick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	case a >= 10 || a == 0:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

// maxPoints bounds the points of one line, so an SVG stays small.
const maxPoints = 400

// LatencyCDF charts, per variant, the share of deliveries made within a
// latency.
func LatencyCDF(rs []*Result) Chart {
	c := Chart{Title: "Delivery latency, CDF", XLabel: "latency (ms, log scale)", YLabel: "share of deliveries", LogX: true}
	for _, r := range rs {
		s := Series{Name: r.Variant.Name}
		n := len(r.Latencies)
		step := max(1, n/maxPoints)
		for i := 0; i < n; i += step {
			s.X = append(s.X, max(r.Latencies[i], 0.1))
			s.Y = append(s.Y, float64(i+1)/float64(n))
		}
		if n > 0 {
			s.X = append(s.X, max(r.Latencies[n-1], 0.1))
			s.Y = append(s.Y, 1)
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// DeliveriesOverTime charts deliveries per second since the run began.
func DeliveriesOverTime(rs []*Result) Chart {
	c := Chart{Title: "Deliveries over time", XLabel: "time since the load began (s)", YLabel: "deliveries per second"}
	for _, r := range rs {
		s := Series{Name: r.Variant.Name}
		if len(r.DeliveryTimes) > 0 {
			last := r.DeliveryTimes[len(r.DeliveryTimes)-1] / 1000
			bins := make([]float64, int(last)+1)
			for _, t := range r.DeliveryTimes {
				if i := int(t / 1000); i >= 0 && i < len(bins) {
					bins[i]++
				}
			}
			for i, v := range bins {
				s.X = append(s.X, float64(i)+0.5)
				s.Y = append(s.Y, v)
			}
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// BytesPerNode charts the bytes each node sent during the run, nodes
// sorted from the busiest.
func BytesPerNode(rs []*Result) Chart {
	c := Chart{Title: "Bytes sent per node (sorted)", XLabel: "node rank", YLabel: "bytes sent"}
	for _, r := range rs {
		v := append([]int64(nil), r.BytesSentNodes...)
		sort.Slice(v, func(i, j int) bool { return v[i] > v[j] })
		s := Series{Name: r.Variant.Name}
		step := max(1, len(v)/maxPoints)
		for i := 0; i < len(v); i += step {
			s.X = append(s.X, float64(i+1))
			s.Y = append(s.Y, float64(v[i]))
		}
		c.Series = append(c.Series, s)
	}
	return c
}
