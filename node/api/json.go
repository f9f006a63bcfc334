package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeStrict decodes one JSON value from data into v: unknown fields and
// anything after the value are errors of KindInvalid. Every JSON the node
// takes from outside (HTTP bodies, Lyceum protocol messages) goes through
// it.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Wrap(KindInvalid, "bad JSON: "+err.Error(), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalidf("bad JSON: something follows the value")
	}
	return nil
}

// ReadStrict reads at most limit bytes of r and decodes them with
// DecodeStrict; more than limit is an error of KindInvalid.
func ReadStrict(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return Wrap(KindInvalid, "could not read the JSON", err)
	}
	if int64(len(data)) > limit {
		return Invalidf("the JSON is larger than %d bytes", limit)
	}
	return DecodeStrict(data, v)
}

// Truncate cuts s to at most n runes, for messages that quote what a
// caller sent.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Quote is %q of s cut to 64 runes, for messages.
func Quote(s string) string { return fmt.Sprintf("%q", Truncate(s, 64)) }
