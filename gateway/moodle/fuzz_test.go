package moodle

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// shareBody is a share's body as Moodle writes it, with the boundary
// "b0undary".
func shareBody(meta, backup string) []byte {
	return []byte("--b0undary\r\nContent-Disposition: form-data; name=\".\"\r\nContent-Length: " + itoa(len(meta)) + "\r\n\r\n" + meta +
		"\r\n--b0undary\r\nContent-Disposition: form-data; name=\".resource\"; filename=\"Quiz \"1\"_backup.mbz\"\r\n" +
		"Content-Type: application/vnd.moodle.backup\r\nContent-Transfer-Encoding: binary\r\n\r\n" + backup + "\r\n--b0undary--\r\n")
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestAFilenameWithAQuoteStillNamesThePart: Moodle writes the file name
// unescaped, which breaks the header for mime.ParseMediaType.
func TestAFilenameWithAQuoteStillNamesThePart(t *testing.T) {
	req, err := readShare(multipart.NewReader(bytes.NewReader(shareBody(`{"name":"Quiz","description":""}`, "data")), "b0undary"),
		func(filename string, r io.Reader) (*stored, error) {
			io.Copy(io.Discard, r)
			return &stored{name: backupName(filename)}, nil
		})
	if err != nil || req.meta.Name != "Quiz" || req.stored.name != "resource_backup.mbz" {
		t.Fatalf("%+v %v", req, err)
	}
}

// FuzzReadShare: whatever the body, the reader returns without panic, a
// success has both parts, and a refusal is the sender's fault (invalid)
// naming a field, or the store's own error.
func FuzzReadShare(f *testing.F) {
	f.Add(shareBody(`{"name":"Quiz","description":"d"}`, "\x1f\x8b data"))
	f.Add(shareBody(`{"name":""}`, ""))
	f.Add([]byte("--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b0undary--\r\n"))
	f.Add([]byte("--b0undary--\r\n"))
	f.Add([]byte("--b0undary\r\nContent-Disposition: form-data; name=\".\"\r\n\r\n{\"name\":\"a\"}\r\n--b0und"))
	errStore := errors.New("store failed")
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := readShare(multipart.NewReader(bytes.NewReader(body), "b0undary"), func(filename string, r io.Reader) (*stored, error) {
			n, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			if err != nil {
				return nil, bodyError(ResourcePart, err)
			}
			if n == 3 {
				return nil, errStore
			}
			return &stored{name: backupName(filename), size: n}, nil
		})
		if err == nil {
			if req.stored == nil || req.meta.Name == "" {
				t.Fatalf("accepted without both parts: %+v", req)
			}
			return
		}
		var fe *fieldError
		if !errors.Is(err, errStore) && (!errors.As(err, &fe) || api.KindOf(err) != api.KindInvalid) {
			t.Fatalf("refusal %v is not an invalid field", err)
		}
	})
}
