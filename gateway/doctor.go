package gateway

import (
	"context"
	"net/http"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Doctor looks the running node over for `lyceum doctor`.
type Doctor interface {
	// Doctor makes every check; a failed check is in the report, not an
	// error.
	Doctor(ctx context.Context) (api.DoctorReport, error)
}

func (s *Server) apiDoctor(w http.ResponseWriter, r *http.Request) {
	rep, err := s.svc.Doctor.Doctor(r.Context())
	s.answer(w, r, rep, err)
}

// Doctor asks the daemon to look its node over.
func (c *Client) Doctor(ctx context.Context) (api.DoctorReport, error) {
	var out api.DoctorReport
	return out, c.call(ctx, http.MethodGet, "/api/v1/doctor", nil, &out)
}
