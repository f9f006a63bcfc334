package gateway

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// countRequests wraps h to count its requests in
// lyceum_http_requests_total, by the route pattern that served them (the
// ServeMux pattern, so the label set is the routes registered) and the
// class of their status; with no reg it returns h unchanged.
func countRequests(reg *prometheus.Registry, h http.Handler) (http.Handler, error) {
	if reg == nil {
		return h, nil
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lyceum_http_requests_total",
		Help: "HTTP requests answered, by route pattern (\"none\": no route matched) and status class (2xx, 3xx, 4xx, 5xx).",
	}, []string{"route", "status"})
	if err := reg.Register(requests); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// The mux has set r.Pattern by now (on this very request).
			route := r.Pattern
			if route == "" {
				route = "none"
			}
			requests.WithLabelValues(route, statusClass(sw.status)).Inc()
		}()
		h.ServeHTTP(sw, r)
	}), nil
}

// statusClass is "2xx" for 200 to 299, and so on; a handler that wrote
// nothing answered 200.
func statusClass(code int) string {
	if code == 0 {
		code = http.StatusOK
	}
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// statusWriter notes the status a handler answered. It flushes (boxo's
// gateway asserts http.Flusher) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim answers
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what is buffered to the client.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap is the ResponseWriter underneath, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
