package simnet

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestChartsAreWellFormedSVG(t *testing.T) {
	rs := []*Result{
		{Variant: Variant{Name: "lyceum"}, Latencies: []float64{1, 5, 20, 80}, DeliveryTimes: []float64{10, 900, 1500}, BytesSentNodes: []int64{10, 300, 20}},
		{Variant: Variant{Name: "a <b>"}},
	}
	for _, c := range []Chart{LatencyCDF(rs), DeliveriesOverTime(rs), BytesPerNode(rs)} {
		svg := c.SVG()
		d := xml.NewDecoder(bytes.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", c.Title, err)
			}
		}
		if !strings.Contains(string(svg), "polyline") {
			t.Errorf("%s: no line", c.Title)
		}
	}
}
