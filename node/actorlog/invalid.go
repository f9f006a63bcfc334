package actorlog

import (
	"errors"
	"regexp"
	"strings"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// requestNames are the names the requests (CLI flags, API fields, form
// fields) give to the members of an activity's object that validation
// names by their JSON path.
var requestNames = map[string]string{
	"name":                 "title",
	"learningResourceType": "type",
	"derivedFrom":          "derived_from",
	"creditText":           "credit",
	"inReplyTo":            "resource",
	"content":              "content",
	"preferredUsername":    "username",
	"orderedItems":         "items",
}

// vocabularies name the command that lists a coded field's values.
var vocabularies = map[string]string{
	"license": "licenses", "subjects": "subjects", "level": "levels", "type": "types", "language": "languages",
}

// index matches a list index in a JSON path: "subjects[2]".
var index = regexp.MustCompile(`\[\d+\]`)

// invalidActivity says what is wrong with an activity a local actor was
// about to sign, in the words of the request that made it ("license: is
// required", not "sign Create: object.license: is required"), pointing
// at the list of a vocabulary's codes where there is one.
func invalidActivity(err error) error {
	var fe *activity.FieldError
	if !errors.As(err, &fe) || fe.Field == "" {
		return api.Invalidf("%v", err)
	}
	// A member of the object is named as the request names it; a nested
	// one ("creators[0].name") keeps its path.
	field := strings.TrimPrefix(fe.Field, "object.")
	if !strings.Contains(field, ".") {
		field = index.ReplaceAllString(field, "")
		if n, ok := requestNames[field]; ok {
			field = n
		}
	}
	msg := field + ": " + fe.Msg
	if v, ok := vocabularies[field]; ok && !strings.Contains(fe.Msg, "required") {
		msg += " (see `lyceum vocab " + v + "`)"
	}
	return api.Invalidf("%s", msg) // the path and the signing step are noise to whoever asked
}
