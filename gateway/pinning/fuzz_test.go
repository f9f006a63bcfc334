package pinning_test

import (
	"bytes"
	"testing"

	"github.com/lyceum-oer/lyceum/gateway/pinning"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/pinsvc"
)

// ParseQuery and the service's checks never panic, and what they accept
// is within the spec's bounds.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=1000", "cid=bafkqaaa,QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn&status=queued,pinning",
		"name=x&match=ipartial&before=2020-07-27T17:32:28.276Z&after=2020-07-27T17:32:28Z",
		"meta=%7B%22app_id%22%3A%22UUID%22%7D", "limit=0", "status=pinned,pinned", "%zz", "meta={}", "cid=,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := pinning.ParseQuery(raw)
		if err != nil {
			if api.KindOf(err) != api.KindInvalid {
				t.Fatalf("%q: error of kind %s", raw, api.KindOf(err))
			}
			return
		}
		if err := pinsvc.CheckQuery(&q); err != nil {
			if api.KindOf(err) != api.KindInvalid {
				t.Fatalf("%q: check error of kind %s", raw, api.KindOf(err))
			}
			return
		}
		if q.Limit < 1 || q.Limit > pinsvc.MaxLimit || len(q.CIDs) > pinsvc.MaxQueryCIDs || len(q.Name) > pinsvc.MaxName || len(q.Meta) > pinsvc.MaxMetaKeys {
			t.Fatalf("%q: accepted out of bounds: %+v", raw, q)
		}
	})
}

// ReadPin and CheckPin never panic, and what they accept is within the
// bounds the store relies on.
func FuzzReadPin(f *testing.F) {
	for _, s := range []string{
		`{"cid":"bafkqaaa"}`,
		`{"cid":"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn","name":"PreciousData.pdf","origins":["/ip4/203.0.113.142/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"],"meta":{"app_id":"99986338"}}`,
		`{"cid":"bafkqaaa","origins":["/ip4/1.2.3.4/tcp/1"]}`, `{"cid":1}`, `{"cid":"x"}{}`, `null`, `{"meta":{"a":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := pinning.ReadPin(bytes.NewReader(body))
		if err != nil {
			return
		}
		if _, err := pinsvc.CheckPin(p); err != nil {
			if api.KindOf(err) != api.KindInvalid {
				t.Fatalf("%q: check error of kind %s", body, api.KindOf(err))
			}
			return
		}
		if len(p.Name) > pinsvc.MaxName || len(p.Origins) > pinsvc.MaxOrigins || len(p.Meta) > pinsvc.MaxMetaKeys {
			t.Fatalf("%q: accepted out of bounds", body)
		}
	})
}
