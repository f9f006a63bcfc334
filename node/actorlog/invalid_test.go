package actorlog

import (
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

func TestInvalidActivitySpeaksTheRequestsWords(t *testing.T) {
	for _, c := range []struct {
		field, msg, want string
	}{
		{"object.license", "is required", "license: is required"},
		{"object.license", `"CC-BY-9" is not a known SPDX licence id`, "license: \"CC-BY-9\" is not a known SPDX licence id (see `lyceum vocab licenses`)"},
		{"object.name", "must be 3–160 characters, is 2", "title: must be 3–160 characters, is 2"},
		{"object.subjects[1]", `"F0541" is not an ISCED-F code`, "subjects: \"F0541\" is not an ISCED-F code (see `lyceum vocab subjects`)"},
		{"object.creators[0].name", "must be 1–500 characters, is 0", "creators[0].name: must be 1–500 characters, is 0"},
	} {
		err := invalidActivity(&activity.FieldError{Field: c.field, Msg: c.msg})
		if api.KindOf(err) != api.KindInvalid || err.Error() != c.want {
			t.Errorf("%s: %q (%s), want %q", c.field, err, api.KindOf(err), c.want)
		}
	}
}
