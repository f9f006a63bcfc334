package node

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The keys come from the struct: every key the written file holds is one,
// and every key of the struct is in the written file.
func TestConfigKeysAreTheFilesKeys(t *testing.T) {
	c, _ := DefaultConfig(ProfileDesktop)
	var buf bytes.Buffer
	if err := WriteConfig(&buf, c); err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	table := ""
	for _, l := range strings.Split(buf.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "["):
			table = strings.Trim(l, "[]") + "."
			inFile[strings.Trim(l, "[]")] = true
		case strings.Contains(l, " = ") && !strings.HasPrefix(l, "#"):
			k, _, _ := strings.Cut(l, " = ")
			inFile[table+k] = true
		}
	}
	var keys []string
	for _, k := range ConfigKeys() {
		keys = append(keys, k.Name)
		if !inFile[k.Name] {
			t.Errorf("%s is not in the written file", k.Name)
		}
		delete(inFile, k.Name)
	}
	for k := range inFile {
		t.Errorf("the written file has %s, which ConfigKeys does not list", k)
	}
	for _, want := range []string{"profile", "http.listen", "search.hqs", "limits.http_conns_per_ip"} {
		if !strings.Contains(" "+strings.Join(keys, " ")+" ", " "+want+" ") {
			t.Errorf("ConfigKeys misses %s", want)
		}
	}
}

// Every key can be read and set back to its own value from its printed
// form: no key has a type the command line cannot write.
func TestEveryConfigKeyCanBeSet(t *testing.T) {
	for _, p := range Profiles {
		want, _ := DefaultConfig(p)
		got := want
		for _, k := range ConfigKeys() {
			if k.Table {
				continue
			}
			v, err := want.Get(k.Name)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Set(k.Name, FormatConfigValue(v)); err != nil {
				t.Errorf("%s: set %s to its own value %q: %v", p, k.Name, FormatConfigValue(v), err)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: setting every key to its value changed the config:\n%+v\n%+v", p, got, want)
		}
	}
}

func TestSetParsesTheKeysType(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             any
	}{
		{"a string", "http.listen", "0.0.0.0:5101", "0.0.0.0:5101"},
		{"a whole number", "limits.http_conns_per_ip", "64", int64(64)},
		{"a whole number with underscores", "limits.rate_limited_clients", "200_000", int64(200_000)},
		{"a number", "search.rate_limit", "2.5", 2.5},
		{"a boolean", "search.indexer", "true", true},
		{"a duration", "search.timeout", "30s", Duration(30 * time.Second)},
		{"a list as JSON", "gateway.trusted_proxies", `["10.0.0.1", "10.1.0.0/16"]`, []string{"10.0.0.1", "10.1.0.0/16"}},
		{"a list with commas", "gateway.trusted_proxies", "10.0.0.1, 10.1.0.0/16", []string{"10.0.0.1", "10.1.0.0/16"}},
		{"an empty list", "swarm.bootstrap", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := DefaultConfig(ProfileDesktop)
			if err := c.Set(tt.key, tt.value); err != nil {
				t.Fatal(err)
			}
			got, _ := c.Get(tt.key)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSetRefusesWhatTheKeyCannotHold(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"a word for a number", "swarm.conn_low", "many", "whole number"},
		{"a fraction for a whole number", "swarm.conn_low", "1.5", "whole number"},
		{"a number too large", "limits.sync_cache_mib", "99999999999999999999", "whole number"},
		{"infinity", "limits.deliveries_per_second", "inf", "a number"},
		{"not a number", "search.rate_limit", "NaN", "a number"},
		{"a word for a boolean", "swarm.mdns", "sometimes", "true or false"},
		{"a bare number for a duration", "search.timeout", "30", "duration"},
		{"a broken JSON list", "search.hqs", `["a",`, "JSON list"},
		{"a table", "limits", "1", "is a table"},
		{"a misspelt key", "limits.http_conn_per_ip", "1", `unknown key "limits.http_conn_per_ip" (did you mean limits.http_conns_per_ip?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := DefaultConfig(ProfileDesktop)
			err := c.Set(tt.key, tt.value)
			if err == nil {
				t.Fatal("accepted")
			}
			if api.KindOf(err) != api.KindInvalid {
				t.Errorf("kind %s, want invalid", api.KindOf(err))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestSuggestConfigKeyFindsTheTypo(t *testing.T) {
	tests := []struct{ typed, want string }{
		{"http.listn", "http.listen"},
		{"htp.listen", "http.listen"},
		{"HTTP.Listen", "http.listen"},
		{"swarm.conn_lo", "swarm.conn_low"},
		{"conn_high", "swarm.conn_high"},
		{"search.hq", "search.hqs"},
		{"limit", "limits"},
		{"limits.http-conns-per-ip", "limits.http_conns_per_ip"},
		{"gateway.public_url", "gateway.public_url"},
		{"completely.different", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SuggestConfigKey(tt.typed); got != tt.want {
			t.Errorf("SuggestConfigKey(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

// A misspelt key in config.toml is named, with its line and the key that
// was meant, not as a "missing field".
func TestParseConfigSuggestsTheKeyMeant(t *testing.T) {
	_, err := ParseConfig(strings.NewReader("[swarm]\nconn_lo = 3\n\n[limit]\nactor_keys = 1\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	if api.KindOf(err) != api.KindInvalid {
		t.Errorf("kind %s, want invalid", api.KindOf(err))
	}
	for _, want := range []string{
		`line 2 column 1: unknown key "swarm.conn_lo" (did you mean swarm.conn_low?)`,
		`unknown key "limit" (did you mean limits?)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "missing") {
		t.Errorf("error %q speaks of missing fields", err)
	}
}

func TestApplyProfileSetsOnlyItsKeys(t *testing.T) {
	c, _ := DefaultConfig(ProfileDesktop)
	c.HTTP.Listen = "0.0.0.0:8080"
	c.Search.HQs = []string{"12D3KooWQP9m7no2eeHh43gosEUMg5aSDiwZh8XoDfjsBPJn1mk2"}
	hq, err := ApplyProfile(c, ProfileHQ)
	if err != nil {
		t.Fatal(err)
	}
	if !hq.Search.Indexer || hq.DHT.Mode != "server" || hq.Swarm.NATPortMap || hq.Profile != ProfileHQ {
		t.Errorf("hq not applied: %+v", hq)
	}
	if hq.HTTP.Listen != "0.0.0.0:8080" || len(hq.Search.HQs) != 1 || !reflect.DeepEqual(hq.Swarm.Listen, c.Swarm.Listen) {
		t.Errorf("hq changed keys it does not decide: %+v", hq)
	}
	if err := hq.Validate(); err != nil {
		t.Fatal(err)
	}
	// And back: desktop undoes what hq set.
	back, _ := ApplyProfile(hq, ProfileDesktop)
	if d := DiffConfig(c, back); len(d) != 0 {
		t.Errorf("hq then desktop is not desktop: %+v", d)
	}
	if _, err := ApplyProfile(c, "laptop"); api.KindOf(err) != api.KindInvalid {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestWriteConfigFileIsAtomicAndOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	if err := InitRepo(dir, ProfileTest); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfigFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("limits.actor_keys", "100"); err != nil {
		t.Fatal(err)
	}
	if err := WriteConfigFile(dir, c); err != nil {
		t.Fatal(err)
	}
	back, err := ReadConfigFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Limits.ActorKeys != 100 {
		t.Errorf("actor_keys = %d after writing 100", back.Limits.ActorKeys)
	}
	st, err := os.Stat(ConfigPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config.toml has mode %o, want 600", st.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".config.toml.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	// An invalid configuration is refused and the file stays as it was.
	c.Limits.ActorKeys = 0
	if err := WriteConfigFile(dir, c); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("invalid config written: %v", err)
	}
	if back, _ := ReadConfigFile(dir); back.Limits.ActorKeys != 100 {
		t.Errorf("a refused write changed the file")
	}
	if _, err := ReadConfigFile(t.TempDir()); api.KindOf(err) != api.KindNotFound {
		t.Errorf("no repo: %v, want not found", err)
	}
}

// FuzzConfigSet feeds `lyceum config KEY VALUE` arbitrary keys and values:
// it never panics, refuses with an invalid-kind error, and what it accepts
// and Validate passes is written and read back unchanged.
func FuzzConfigSet(f *testing.F) {
	for _, seed := range [][2]string{
		{"http.listen", "0.0.0.0:5101"},
		{"limits.http_conns_per_ip", "64"},
		{"search.hqs", `["12D3KooWQP9m7no2eeHh43gosEUMg5aSDiwZh8XoDfjsBPJn1mk2"]`},
		{"search.timeout", "30s"},
		{"gateway.trusted_proxies", "10.0.0.1,10.1.0.0/16"},
		{"search.rate_limit", "1e-7"},
		{"swarm.mdns", "false"},
		{"htp.listen", "x"},
		{"limits", "1"},
		{"gateway.public_url", "https://lyceum.example.org"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		c, _ := DefaultConfig(ProfileTest)
		_ = SuggestConfigKey(key)
		err := c.Set(key, value)
		if err != nil {
			if api.KindOf(err) != api.KindInvalid {
				t.Fatalf("Set(%q, %q): kind %s: %v", key, value, api.KindOf(err), err)
			}
			return
		}
		if c.Validate() != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteConfig(&buf, c); err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(&buf)
		if err != nil {
			t.Fatalf("Set(%q, %q) wrote a file that does not parse: %v\n%s", key, value, err, buf.String())
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("Set(%q, %q) did not read back the same: %v", key, value, DiffConfig(c, back))
		}
	})
}
