package activity

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers test with errors.Is. Decode and Verify wrap
// them with context; a *FieldError also matches ErrInvalid.
var (
	// ErrTooLarge reports input over the size limit.
	ErrTooLarge = errors.New("activity: too large")
	// ErrTooDeep reports JSON nested deeper than the depth limit.
	ErrTooDeep = errors.New("activity: nested too deeply")
	// ErrMalformed reports bytes that are not acceptable JSON (syntax,
	// duplicate keys, invalid UTF-8, lone surrogates).
	ErrMalformed = errors.New("activity: malformed JSON")
	// ErrInvalid reports a well-formed document whose content breaks a
	// rule; the error is a *FieldError naming the field.
	ErrInvalid = errors.New("activity: invalid")
	// ErrUnsigned reports an activity with no proof where one is needed.
	ErrUnsigned = errors.New("activity: unsigned")
	// ErrBadSignature reports a proof that does not verify.
	ErrBadSignature = errors.New("activity: bad signature")
	// ErrBadKey reports a malformed key or did:key.
	ErrBadKey = errors.New("activity: bad key")
	// ErrBrokenLog reports a log link that does not hold (wrong seq, actor,
	// prev or CID).
	ErrBrokenLog = errors.New("activity: broken log")
)

// FieldError is a validation error on one field. Field is a JSON path such
// as "object.license" or "object.creators[0].name"; Msg says what is wrong.
// It matches ErrInvalid with errors.Is.
type FieldError struct {
	Field string
	Msg   string
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// fieldErr builds a *FieldError with a formatted message.
func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// join appends a member name to a JSON path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends an array index to a JSON path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
