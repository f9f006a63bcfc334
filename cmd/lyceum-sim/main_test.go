package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLatencyAndLoss(t *testing.T) {
	l, j, err := parseLatency("50ms±20ms")
	if err != nil || l != 50*time.Millisecond || j != 20*time.Millisecond {
		t.Fatalf("got %v %v %v", l, j, err)
	}
	if l, j, err = parseLatency("30ms+-5ms"); err != nil || l != 30*time.Millisecond || j != 5*time.Millisecond {
		t.Fatalf("got %v %v %v", l, j, err)
	}
	if v, err := parseLoss("1%"); err != nil || v != 0.01 {
		t.Fatalf("got %v %v", v, err)
	}
	if _, err := parseLoss("lots"); err == nil {
		t.Fatal("accepted lots")
	}
}

// TestRunWritesResults runs a tiny propagation scenario through the
// command and checks the files and the table.
func TestRunWritesResults(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--scenario", "propagation", "--nodes", "8", "--degree", "3", "--latency", "10ms±5ms",
		"--loss", "0%", "--rate", "2", "--duration", "2s", "--variant", "lyceum", "--quiet", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "p99 ms") || !strings.Contains(stdout.String(), "lyceum") {
		t.Fatalf("no table:\n%s", stdout.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "propagation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Nodes     int `json:"nodes"`
			Published int `json:"published"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Results) != 1 || doc.Results[0].Nodes != 8 {
		t.Fatalf("results %s: %v", data, err)
	}
	for _, f := range []string{"propagation-latency-cdf.svg", "propagation-deliveries.svg", "propagation-bytes-per-node.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	var so, se bytes.Buffer
	if code := run([]string{"run", "--latency", "fast"}, &so, &se); code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, se.String())
	}
	if code := run([]string{"run", "--scenario", "nope"}, &so, &se); code != exitInvalid {
		t.Fatalf("exit %d, want %d: %s", code, exitInvalid, se.String())
	}
}
