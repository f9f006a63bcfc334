package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAddUpload sends arbitrary multipart bodies to POST /api/v1/add: the
// answer is a success or a client error, never a server error or a crash.
func FuzzAddUpload(f *testing.F) {
	const boundary = "lyceumfuzzboundary"
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d\"\r\nContent-Type: application/x-directory\r\n\r\n\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d%2Fb.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nb\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\n\r\nx\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "--\r\n"))
	f.Add([]byte("not multipart at all"))
	tn := mustStartNode(f)
	h := tn.server.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/add", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.Header.Set("Authorization", "Bearer "+tn.client.token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
	})
}
