package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// jsonlReader reads JSON Lines, each line bounded in size.
type jsonlReader struct {
	r    *bufio.Reader
	line int
}

func newJSONL(r io.Reader) *jsonlReader {
	return &jsonlReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// readLine reads one line without its end; a line longer than
// MaxRecordBytes is read to its end and dropped (too is true).
func (j *jsonlReader) readLine() (line []byte, too bool, err error) {
	var buf []byte
	for {
		chunk, err := j.r.ReadSlice('\n')
		if !too {
			if len(buf)+len(chunk) > MaxRecordBytes+2 { // the end of line is not counted
				too, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && (len(buf) > 0 || too):
			return bytes.TrimRight(buf, "\r\n"), too, nil
		case err != nil:
			return nil, false, err
		}
		return bytes.TrimRight(buf, "\r\n"), too, nil
	}
}

func (j *jsonlReader) next() (int, Record, []Problem, error) {
	for {
		b, too, err := j.readLine()
		if errors.Is(err, io.EOF) {
			return 0, Record{}, nil, io.EOF
		}
		if err != nil {
			return 0, Record{}, nil, fmt.Errorf("read the manifest: %w", err)
		}
		j.line++
		if j.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if too {
			return j.line, Record{}, []Problem{{Line: j.line, Reason: fmt.Sprintf("is longer than %d KiB", MaxRecordBytes>>10)}}, nil
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue // blank lines are allowed, as many writers end with one
		}
		rec, probs := decodeLine(j.line, b)
		return j.line, rec, probs, nil
	}
}

// decodeLine decodes one line: a JSON object whose keys are known
// columns, each once, with strings as values (arrays of strings for the
// columns that hold several); null is an empty value.
func decodeLine(line int, b []byte) (Record, []Problem) {
	bad := func(field, format string, args ...any) (Record, []Problem) {
		return Record{}, []Problem{{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}}
	}
	if !utf8.Valid(b) {
		return bad("", "is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad("", "is not a JSON object")
	}
	var rec Record
	var probs []Problem
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad("", "is not JSON: %v", err)
		}
		key, _ := t.(string)
		col := column(key)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad("", "is not JSON: %v", err)
		}
		switch {
		case col == "":
			return bad(key, "unknown column: the columns are %s", strings.Join(Columns, ", "))
		case seen[col]:
			return bad(col, "appears twice")
		}
		seen[col] = true
		values, err := jsonValues(raw, multiValued[col])
		if err != nil {
			probs = append(probs, Problem{Line: line, Field: col, Reason: err.Error()})
			continue
		}
		rec.set(col, values)
	}
	if _, err := dec.Token(); err != nil {
		return bad("", "is not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("", "has something after its JSON object")
	}
	return rec, probs
}

// jsonValues reads one value: a string, or for a multi-valued column an
// array of strings; each is trimmed and empty ones dropped.
func jsonValues(raw json.RawMessage, multi bool) ([]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	var values []string
	if multi {
		if err := json.Unmarshal(raw, &values); err != nil {
			return nil, api.Invalidf("must be an array of strings")
		}
	} else {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, api.Invalidf("must be a string")
		}
		values = []string{s}
	}
	out := values[:0]
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}
