package manifest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// csvReader reads CSV records, each bounded in size.
type csvReader struct {
	r      *csv.Reader
	budget *budgetReader
	cols   []string // canonical column of each field
}

// errRecordTooLarge stops a CSV manifest whose record outgrows
// MaxRecordBytes: CSV cannot be resynchronised past an unbounded quoted
// field, so the rest cannot be read.
var errRecordTooLarge = api.Invalidf("a record is larger than %d KiB (an unclosed quote?)", MaxRecordBytes>>10)

// budgetReader fails a read once more than max bytes were read since the
// last reset: csv.Reader holds a whole record in memory, so the record is
// bounded by what may be read for it.
type budgetReader struct {
	r    io.Reader
	max  int
	used int
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.used > b.max {
		return 0, errRecordTooLarge
	}
	if len(p) > b.max+1-b.used {
		p = p[:b.max+1-b.used]
	}
	n, err := b.r.Read(p)
	b.used += n
	return n, err
}

func newCSV(r io.Reader) (*csvReader, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3) // Excel writes a BOM before UTF-8 CSV
	}
	// The budget covers one record plus what csv's own buffer (4 KiB)
	// may have read ahead of it.
	budget := &budgetReader{r: br, max: MaxRecordBytes + 4096}
	c := &csvReader{r: csv.NewReader(budget), budget: budget}
	c.r.ReuseRecord = false
	header, err := c.r.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, api.Invalidf("the manifest is empty: its first line names the columns, e.g. %s", strings.Join(Columns, ","))
	case errors.Is(err, errRecordTooLarge):
		return nil, err
	case err != nil:
		return nil, api.Wrap(api.KindInvalid, "line 1: the header is not CSV", err)
	}
	seen := map[string]bool{}
	for i, h := range header {
		col := column(h)
		switch {
		case i == 0 && len(header) == 1 && strings.Contains(h, ";"):
			return nil, api.Invalidf("line 1: the columns are separated by \";\": save the manifest as CSV with commas between columns")
		case col == "" && !utf8.ValidString(h):
			return nil, api.Invalidf("line 1: column %d: the header is not UTF-8", i+1)
		case col == "":
			return nil, api.Invalidf("line 1: unknown column %s: the columns are %s", api.Quote(h), strings.Join(Columns, ", "))
		case seen[col]:
			return nil, api.Invalidf("line 1: column %s appears twice", api.Quote(col))
		}
		seen[col] = true
		c.cols = append(c.cols, col)
	}
	for _, req := range []string{"source", "title"} {
		if !seen[req] {
			return nil, api.Invalidf("line 1: the manifest has no %s column", req)
		}
	}
	c.r.FieldsPerRecord = len(header)
	return c, nil
}

func (c *csvReader) next() (int, Record, []Problem, error) {
	c.budget.used = 0
	fields, err := c.r.Read()
	line := 0
	if err == nil || len(fields) > 0 {
		line, _ = c.r.FieldPos(0)
	}
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return 0, Record{}, nil, io.EOF
	case errors.Is(err, errRecordTooLarge):
		return 0, Record{}, nil, fmt.Errorf("after line %d: %w", line, err)
	case errors.As(err, &pe):
		// The record is refused; csv.Reader goes on at the next one.
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			reason = fmt.Sprintf("has %d fields, the header %d", len(fields), len(c.cols))
		}
		return pe.StartLine, Record{}, []Problem{{Line: pe.StartLine, Reason: "not CSV: " + reason}}, nil
	case err != nil:
		return 0, Record{}, nil, fmt.Errorf("read the manifest: %w", err)
	}
	var rec Record
	var probs []Problem
	for i, f := range fields {
		col := c.cols[i]
		if !utf8.ValidString(f) {
			probs = append(probs, Problem{Line: line, Field: col, Reason: "is not UTF-8"})
			continue
		}
		var values []string
		if multiValued[col] {
			for _, v := range strings.Split(f, ";") {
				if v = strings.TrimSpace(v); v != "" {
					values = append(values, v)
				}
			}
		} else if v := strings.TrimSpace(f); v != "" {
			values = []string{v}
		}
		rec.set(col, values)
	}
	return line, rec, probs, nil
}
