package simnet

import (
	"embed"
	"fmt"
	"path"
	"strings"
)

//go:embed scenarios/*.toml
var builtin embed.FS

// Builtin returns the scenario of that name from simnet/scenarios/.
func Builtin(name string) (Scenario, error) {
	f, err := builtin.Open(path.Join("scenarios", name+".toml"))
	if err != nil {
		return Scenario{}, fmt.Errorf("simnet: no scenario %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	defer f.Close()
	return ParseScenario(f)
}

// BuiltinNames lists the scenarios in simnet/scenarios/.
func BuiltinNames() []string {
	es, _ := builtin.ReadDir("scenarios")
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	return out
}
