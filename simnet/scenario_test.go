package simnet

import (
	"bytes"
	"reflect"
	"testing"
)

func TestBuiltinScenariosParse(t *testing.T) {
	names := BuiltinNames()
	if len(names) < len(Kinds) {
		t.Fatalf("only %v", names)
	}
	kinds := map[string]bool{}
	for _, n := range names {
		sc, err := Builtin(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		kinds[sc.Kind] = true
	}
	for _, k := range Kinds {
		if !kinds[k] {
			t.Errorf("no built-in scenario of kind %s", k)
		}
	}
}

func TestScenarioRejectsUnknownKeysAndBadValues(t *testing.T) {
	for name, text := range map[string]string{
		"unknown key":  "name='x'\nkind='propagation'\nnodes=10\ndegree=4\nbogus=1\n",
		"bad kind":     "name='x'\nkind='nope'\nnodes=10\ndegree=4\n",
		"jitter > lat": "name='x'\nkind='propagation'\nnodes=10\ndegree=4\nlatency='10ms'\njitter='20ms'\n",
		"one node":     "name='x'\nkind='propagation'\nnodes=1\ndegree=4\n",
	} {
		if _, err := ParseScenario(bytes.NewReader([]byte(text))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSameSeedSameTopologyAndSchedule(t *testing.T) {
	a, b := Topology(200, 8, 7), Topology(200, 8, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two topologies")
	}
	if reflect.DeepEqual(a, Topology(200, 8, 8)) {
		t.Fatal("two seeds gave one topology")
	}
	sc := Scenario{Nodes: 200, Seed: 7}
	s1, s2 := (&Sim{sc: sc}).schedule(10e9, 5, 0), (&Sim{sc: sc}).schedule(10e9, 5, 0)
	if len(s1) == 0 || !reflect.DeepEqual(s1, s2) {
		t.Fatal("the same seed gave two schedules")
	}
	deg := map[int]int{}
	for _, e := range a {
		deg[e[0]]++
		deg[e[1]]++
	}
	if got := float64(2*len(a)) / 200; got < 7.9 || got > 8.1 {
		t.Fatalf("mean degree %.2f, want 8", got)
	}
}

func FuzzParseScenario(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzParseScenario.
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
	})
}
