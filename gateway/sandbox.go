package gateway

import (
	"mime"
	"net/http"
)

// The IPFS gateway serves what anyone uploaded on the web app's own
// origin. An HTML or SVG file opened there would run its scripts as the
// app, with the visitor's session. So every answer of /ipfs/ carries a
// sandbox Content-Security-Policy, which gives the document an origin of
// its own and no scripts, except a PDF: Chromium does not show a PDF in a
// sandboxed document, and a PDF's own scripts run in the viewer, not in
// the page's origin. Images, audio and video shown by the app's pages are
// not affected: a media element ignores the policy of what it loads.

// sandboxedCSP is the policy of every /ipfs/ answer but a PDF.
const sandboxedCSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"

// sandboxContent wraps the IPFS gateway's handler.
func sandboxContent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&sandboxWriter{ResponseWriter: w}, r)
	})
}

// sandboxWriter sets the policy once the handler has chosen the content
// type, just before the header is sent.
type sandboxWriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *sandboxWriter) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		h := s.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "application/pdf" {
			h.Set("Content-Security-Policy", sandboxedCSP)
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *sandboxWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes a flush on to the connection (streamed CARs).
func (s *sandboxWriter) Flush() {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(s.ResponseWriter).Flush() //nolint:errcheck // nothing to do if it cannot
}

// Unwrap lets http.ResponseController reach the connection.
func (s *sandboxWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
