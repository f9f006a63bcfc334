package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// ConfigKey is one key of config.toml, found by reflection over Config's
// toml tags so that no list of keys can fall behind the struct.
type ConfigKey struct {
	// Name is the dotted path, as written after `lyceum config`:
	// "http.listen", "limits.http_conns_per_ip".
	Name string
	// Type is what the value is: string, int, float, bool, duration or
	// list (of strings).
	Type string
	// Table is true for a table ("swarm", "limits"): it has keys, no value.
	Table bool

	index []int // field path in Config, for reflect.Value.FieldByIndex
}

// durationType is the one named type that is a value although its kind is
// an integer.
var durationType = reflect.TypeFor[Duration]()

// ConfigKeys lists the tables and keys of config.toml in the order of the
// Config struct, each table before its keys.
func ConfigKeys() []ConfigKey { return slices.Clone(configKeys()) }

// configKeys and configKeysByName are worked out once: every command line
// builds the profile help from them (60 % of a CLI start when each lookup
// walked the struct again).
var (
	configKeys       = sync.OnceValue(walkConfigKeys)
	configKeysByName = sync.OnceValue(func() map[string]ConfigKey {
		m := make(map[string]ConfigKey)
		for _, k := range configKeys() {
			m[k.Name] = k
		}
		return m
	})
)

func walkConfigKeys() []ConfigKey {
	var out []ConfigKey
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			k := ConfigKey{Name: prefix + name, index: append(append([]int(nil), index...), i)}
			switch {
			case f.Type == durationType:
				k.Type = "duration"
			case f.Type.Kind() == reflect.Struct:
				k.Table = true
				out = append(out, k)
				walk(f.Type, k.Name+".", k.index)
				continue
			case f.Type.Kind() == reflect.String:
				k.Type = "string"
			case f.Type.Kind() == reflect.Bool:
				k.Type = "bool"
			case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
				k.Type = "int"
			case f.Type.Kind() == reflect.Float64:
				k.Type = "float"
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
				k.Type = "list"
			default:
				// A new field of a type this file cannot parse is caught by
				// TestEveryConfigKeyCanBeSet.
				k.Type = f.Type.String()
			}
			out = append(out, k)
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

// LookupConfigKey finds a key or table by its dotted name. An unknown name
// is an invalid-kind error that suggests the nearest known key.
func LookupConfigKey(name string) (ConfigKey, error) {
	if k, ok := configKeysByName()[name]; ok {
		return k, nil
	}
	return ConfigKey{}, unknownKey(name)
}

// unknownKey says that a key does not exist, and which one was perhaps
// meant.
func unknownKey(name string) error {
	msg := "unknown key " + api.Quote(name)
	if s := SuggestConfigKey(name); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return api.Invalidf("%s", msg)
}

// SuggestConfigKey returns the known key or table nearest to name (by
// edit distance, letter case ignored), or "" when none is near enough to
// be a likely typo. A key spelt right under a wrong or missing table is
// found by its last part.
func SuggestConfigKey(name string) string {
	lower := strings.ToLower(name)
	lowerLast := lower[strings.LastIndexByte(lower, '.')+1:]
	best, bestScore, bestFull := "", math.MaxInt, math.MaxInt
	for _, k := range configKeys() {
		full := levenshtein(lower, k.Name)
		// A right key under a wrong or missing table ("conn_lo" for
		// swarm.conn_low) is one edit further than its own spelling.
		last := k.Name[strings.LastIndexByte(k.Name, '.')+1:]
		score := min(full, levenshtein(lowerLast, last)+1)
		if score < bestScore || score == bestScore && full < bestFull {
			best, bestScore, bestFull = k.Name, score, full
		}
	}
	// Beyond a third of the name's length, a suggestion is noise.
	if bestScore > max(2, len(name)/3) {
		return ""
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes (keys are
// ASCII); it gives up early on very long input.
func levenshtein(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Get returns the value of a key (string, int64, float64, bool, Duration
// or []string) or, for a table, its struct.
func (c Config) Get(name string) (any, error) {
	k, err := LookupConfigKey(name)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(c).FieldByIndex(k.index)
	switch {
	case k.Table, v.Type() == durationType:
		return v.Interface(), nil
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		return v.Int(), nil
	case v.Kind() == reflect.Slice:
		return append([]string{}, v.Interface().([]string)...), nil
	}
	return v.Interface(), nil
}

// Set parses value for the key's type and stores it. It does not check
// the whole configuration: call Validate afterwards, as ParseConfig does.
// Values are written as on the command line: 30s for a duration, true or
// false, a list as JSON (["a","b"]) or comma-separated ("a,b"; "" is the
// empty list).
func (c *Config) Set(name, value string) error {
	k, err := LookupConfigKey(name)
	if err != nil {
		return err
	}
	if k.Table {
		return api.Invalidf("%s is a table: set one of its keys, e.g. %s", name, firstKeyOf(name))
	}
	v := reflect.ValueOf(c).Elem().FieldByIndex(k.index)
	bad := func(want string) error {
		return api.Invalidf("%s: %s is not %s", name, api.Quote(value), want)
	}
	switch k.Type {
	case "string":
		if strings.ContainsRune(value, 0) {
			return bad("a string without NUL characters")
		}
		v.SetString(value)
	case "bool":
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(value)))
		if err != nil {
			return bad("true or false")
		}
		v.SetBool(b)
	case "int":
		s := strings.TrimSpace(value)
		// TOML's 1_000 is accepted, but only between digits.
		if strings.Contains(s, "_") && !strings.Contains(s, "__") && !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_") {
			s = strings.ReplaceAll(s, "_", "")
		}
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return bad("a whole number")
		}
		v.SetInt(n)
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad("a number")
		}
		v.SetFloat(f)
	case "duration":
		var d Duration
		if err := d.UnmarshalText([]byte(strings.TrimSpace(value))); err != nil {
			return api.Invalidf("%s: %v", name, err)
		}
		v.SetInt(int64(d))
	case "list":
		l, err := parseList(value)
		if err != nil {
			return api.Invalidf("%s: %v", name, err)
		}
		v.Set(reflect.ValueOf(l))
	default:
		return api.Invalidf("%s: values of type %s cannot be set from the command line", name, k.Type)
	}
	return nil
}

// parseList reads a JSON array of strings or comma-separated words.
func parseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	out := []string{}
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("%s is not a JSON list of strings like [\"a\", \"b\"]", api.Quote(s))
		}
		if out == nil { // "null" inside brackets cannot happen, but stay non-nil
			out = []string{}
		}
	} else {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	for _, x := range out {
		if strings.ContainsRune(x, 0) {
			return nil, fmt.Errorf("a list item holds a NUL character")
		}
	}
	return out, nil
}

// firstKeyOf names the first key of a table, for examples.
func firstKeyOf(table string) string {
	for _, k := range configKeys() {
		if strings.HasPrefix(k.Name, table+".") && !k.Table {
			return k.Name
		}
	}
	return table + ".KEY"
}

// ConfigChange is one key whose value a change of configuration changed.
type ConfigChange struct {
	Key string `json:"key"`
	Old any    `json:"old"`
	New any    `json:"new"`
}

// DiffConfig lists the keys whose values differ between a and b, in the
// order of the file.
func DiffConfig(a, b Config) []ConfigChange {
	var out []ConfigChange
	for _, k := range configKeys() {
		if k.Table {
			continue
		}
		va, _ := a.Get(k.Name)
		vb, _ := b.Get(k.Name)
		if !reflect.DeepEqual(va, vb) {
			out = append(out, ConfigChange{Key: k.Name, Old: va, New: vb})
		}
	}
	return out
}

// ProfileKeys are the keys a profile sets when it is applied to an
// existing repo: those on which the profiles differ. The test profile's own
// keys (loopback addresses, no bootstrap peers…) belong to it alone, so
// that applying hq to a node does not reset its listen addresses.
func ProfileKeys(profile string) ([]string, error) {
	if _, err := DefaultConfig(profile); err != nil {
		return nil, err
	}
	among := []string{ProfileDesktop, ProfileServer, ProfileHQ}
	if profile == ProfileTest {
		among = Profiles
	}
	seen := map[string]bool{}
	for _, p := range among {
		for _, q := range among {
			a, _ := DefaultConfig(p)
			b, _ := DefaultConfig(q)
			for _, ch := range DiffConfig(a, b) {
				seen[ch.Key] = true
			}
		}
	}
	var out []string
	for _, k := range configKeys() {
		if seen[k.Name] {
			out = append(out, k.Name)
		}
	}
	return out, nil
}

// ApplyProfile returns c with the profile's settings (ProfileKeys) and
// name; every other key keeps its value.
func ApplyProfile(c Config, profile string) (Config, error) {
	keys, err := ProfileKeys(profile)
	if err != nil {
		return c, err
	}
	def, _ := DefaultConfig(profile)
	src, dst := reflect.ValueOf(def), reflect.ValueOf(&c).Elem()
	for _, name := range keys {
		k, _ := LookupConfigKey(name)
		dst.FieldByIndex(k.index).Set(reflect.ValueOf(clone(src.FieldByIndex(k.index).Interface())))
	}
	c.Profile = def.Profile
	return c, nil
}

// clone copies a list so that two configs never share one.
func clone(v any) any {
	if l, ok := v.([]string); ok {
		return append([]string{}, l...)
	}
	return v
}

// ConfigPath is the path of the config.toml of the repo at path.
func ConfigPath(repoPath string) string { return filepath.Join(repoPath, configFile) }

// ReadConfigFile reads the config.toml of the repo at path, as OpenRepo
// does but without taking the repo's lock: a running daemon does not stop
// the configuration from being read or changed for its next start.
func ReadConfigFile(repoPath string) (Config, error) {
	if !IsInitialized(repoPath) {
		return Config{}, noRepo(repoPath)
	}
	f, err := os.Open(ConfigPath(repoPath))
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, &api.Error{Kind: api.KindNotFound, Msg: fmt.Sprintf("the repo at %s has no config.toml", repoPath), Err: err}
	}
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	c, err := ParseConfig(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", ConfigPath(repoPath), err)
	}
	return c, nil
}

// WriteConfigFile validates c and writes it as the config.toml of the repo
// at path, every key explained: to a temporary file, synced, then renamed
// over the old one, so that a crash leaves one or the other. The file
// stays readable by its owner only. Comments of one's own are not kept.
func WriteConfigFile(repoPath string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteConfig(&buf, c); err != nil {
		return fmt.Errorf("render config: %w", err)
	}
	// What is written must read back as the same configuration: a value
	// the template cannot express is refused rather than stored wrong.
	back, err := ParseConfig(bytes.NewReader(buf.Bytes()))
	if err != nil || !reflect.DeepEqual(back, c) {
		return fmt.Errorf("render config: the written file does not read back as the same configuration (%v)", err)
	}
	perm := os.FileMode(0o600)
	if st, err := os.Stat(ConfigPath(repoPath)); err == nil {
		perm = st.Mode().Perm() &^ 0o077
	}
	return writeFileAtomic(ConfigPath(repoPath), buf.Bytes(), perm)
}

// FormatConfigValue writes a key's value as `lyceum config KEY VALUE`
// takes it: lists as JSON, durations as 30s.
func FormatConfigValue(v any) string {
	switch x := v.(type) {
	case []string:
		b, _ := json.Marshal(x)
		return string(b)
	case Duration:
		return time.Duration(x).String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
