package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// maxAnswer bounds an answer's body: a page of 1000 requests with their
// meta fits well below it.
const maxAnswer = 32 << 20

// Option configures New.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of a client with a
// one-minute timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// Client is a connection to one pinning service.
type Client struct {
	endpoint string // without the trailing /pins
	token    string
	http     *http.Client
}

// New returns a client of the service at endpoint (what `ipfs pin remote
// service add` takes: requests go to endpoint + "/pins"), with its bearer
// token.
func New(endpoint, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, api.Invalidf("endpoint %s: want an http or https URL such as https://pins.example.org/api/pinning/v1", api.Quote(endpoint))
	}
	if token == "" || strings.ContainsAny(token, "\r\n ") {
		return nil, api.Invalidf("the access token is empty or has spaces")
	}
	c := &Client{endpoint: strings.TrimSuffix(endpoint, "/"), token: token, http: &http.Client{Timeout: time.Minute}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Add asks the service to pin p.
func (c *Client) Add(ctx context.Context, p api.Pin) (api.PinRequest, error) {
	var st api.PinRequest
	return st, c.do(ctx, http.MethodPost, "/pins", p, &st)
}

// Get reads the request id.
func (c *Client) Get(ctx context.Context, id string) (api.PinRequest, error) {
	var st api.PinRequest
	return st, c.do(ctx, http.MethodGet, "/pins/"+url.PathEscape(id), nil, &st)
}

// Replace replaces the request id with p.
func (c *Client) Replace(ctx context.Context, id string, p api.Pin) (api.PinRequest, error) {
	var st api.PinRequest
	return st, c.do(ctx, http.MethodPost, "/pins/"+url.PathEscape(id), p, &st)
}

// Delete removes the request id.
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/pins/"+url.PathEscape(id), nil, nil)
}

// List returns one page of requests matching q.
func (c *Client) List(ctx context.Context, q api.PinQuery) (api.PinResults, error) {
	v := url.Values{}
	if len(q.CIDs) > 0 {
		v.Set("cid", strings.Join(q.CIDs, ","))
	}
	if q.Name != "" {
		v.Set("name", q.Name)
		if q.Match != "" {
			v.Set("match", string(q.Match))
		}
	}
	if len(q.Statuses) > 0 {
		s := make([]string, len(q.Statuses))
		for i, st := range q.Statuses {
			s[i] = string(st)
		}
		v.Set("status", strings.Join(s, ","))
	}
	if !q.Before.IsZero() {
		v.Set("before", q.Before.UTC().Format(time.RFC3339Nano))
	}
	if !q.After.IsZero() {
		v.Set("after", q.After.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(q.Meta) > 0 {
		m, _ := json.Marshal(q.Meta)
		v.Set("meta", string(m))
	}
	path := "/pins"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var res api.PinResults
	return res, c.do(ctx, http.MethodGet, path, nil, &res)
}

// ListAll pages through every request matching q (q.Limit per page),
// stopping at max results.
func (c *Client) ListAll(ctx context.Context, q api.PinQuery, max int) ([]api.PinRequest, error) {
	if q.Limit == 0 {
		q.Limit = 1000
	}
	var out []api.PinRequest
	for len(out) < max {
		page, err := c.List(ctx, q)
		if err != nil {
			return out, err
		}
		out = append(out, page.Results...)
		// Count is what matches this page's query, before included: the
		// last page holds all of it.
		if len(page.Results) == 0 || len(page.Results) >= page.Count {
			break
		}
		q.Before = page.Results[len(page.Results)-1].Created
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// failure is the spec's error body.
type failure struct {
	Error struct {
		Reason  string `json:"reason"`
		Details string `json:"details"`
	} `json:"error"`
}

// kinds maps the service's HTTP statuses to the node's error kinds, so
// that the CLI's exit codes say what went wrong.
func kindOf(status int) api.Kind {
	switch status {
	case http.StatusBadRequest:
		return api.KindInvalid
	case http.StatusUnauthorized:
		return api.KindUnauthorized
	case http.StatusForbidden:
		return api.KindForbidden
	case http.StatusNotFound:
		return api.KindNotFound
	case http.StatusConflict:
		return api.KindConflict
	case http.StatusTooManyRequests:
		return api.KindRateLimited
	}
	if status >= 500 {
		return api.KindUnavailable
	}
	return api.KindInternal
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, body)
	if err != nil {
		return api.Wrap(api.KindInvalid, "build the request", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return api.Wrap(api.KindUnavailable, "the pinning service does not answer", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return api.Wrap(api.KindUnavailable, "read the pinning service's answer", err)
	}
	if len(data) > maxAnswer {
		return api.Errorf(api.KindUnavailable, "the pinning service's answer is larger than %d bytes", maxAnswer)
	}
	if res.StatusCode >= 300 {
		var f failure
		msg := http.StatusText(res.StatusCode)
		if json.Unmarshal(data, &f) == nil && f.Error.Reason != "" {
			msg = api.Truncate(f.Error.Reason, 64)
			if f.Error.Details != "" {
				msg += ": " + api.Truncate(f.Error.Details, 300)
			}
		}
		return api.Wrap(kindOf(res.StatusCode), fmt.Sprintf("pinning service: HTTP %d: %s", res.StatusCode, msg),
			errors.New(res.Status))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return api.Wrap(api.KindUnavailable, "the pinning service's answer is not the JSON expected", err)
	}
	return nil
}
