package fediverse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Documents from other servers are read leniently — any multi-valued
// property may be a string, an object or an array — but within limits of
// size and depth.

// maxDepth bounds the nesting of a remote JSON document.
const maxDepth = 16

// maxItems bounds the values read from one multi-valued property.
const maxItems = 256

var errDocument = errors.New("bad ActivityStreams document")

// parseDoc decodes a JSON object within the depth limit.
func parseDoc(data []byte) (obj, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", errDocument, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", errDocument)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", errDocument)
	}
	if depth(m, 0) > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errDocument, maxDepth)
	}
	return m, nil
}

func depth(v any, d int) int {
	if d > maxDepth {
		return d
	}
	max := d
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if k := depth(e, d+1); k > max {
				max = k
			}
		}
	case []any:
		for _, e := range x {
			if k := depth(e, d+1); k > max {
				max = k
			}
		}
	}
	return max
}

// str reads a string property.
func str(m obj, key string) string {
	s, _ := m[key].(string)
	return s
}

// ref reads a property that names one thing: a string, or an object with
// an id (or a Link's href), or the first of an array of those.
func ref(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if id := str(x, "id"); id != "" {
			return id
		}
		return str(x, "href")
	case []any:
		if len(x) > 0 {
			return ref(x[0])
		}
	}
	return ""
}

// refs reads a multi-valued property of references.
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if i == maxItems {
				break
			}
			if s := ref(e); s != "" {
				out = append(out, s)
			}
		}
	default:
		if s := ref(x); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// object reads a property holding an embedded object (or the first of an
// array of them); nil when it is only a reference.
func object(v any) obj {
	switch x := v.(type) {
	case map[string]any:
		return x
	case []any:
		if len(x) > 0 {
			return object(x[0])
		}
	}
	return nil
}

// types reads "type", which may be a string or an array of strings.
func types(m obj) []string {
	switch x := m["type"].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func hasType(m obj, t ...string) bool {
	for _, have := range types(m) {
		for _, want := range t {
			if have == want {
				return true
			}
		}
	}
	return false
}

func firstType(m obj) string {
	if ts := types(m); len(ts) > 0 {
		return ts[0]
	}
	return ""
}
