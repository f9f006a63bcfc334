package p2p

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const testProto = protocol.ID("/lyceum/test/1.0.0")

// mustServedPair starts a server host answering testProto with fn and a
// client host connected to it.
func mustServedPair(t *testing.T, cfg ServiceConfig, fn RequestHandler) (server, client *Host, srv *Server) {
	t.Helper()
	server = MustNewLoopbackHost(t)
	client = MustNewLoopbackHost(t)
	reg := prometheus.NewRegistry()
	srv, err := NewServer(server.Libp2p(), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.Serve(ctx, testProto, cfg, fn)
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if _, err := client.Connect(cctx, server.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	return server, client, srv
}

func ask(t *testing.T, client, server *Host, req []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Request(ctx, client.Libp2p(), server.ID(), testProto, req, 0)
}

func TestRequestGetsTheHandlersAnswer(t *testing.T) {
	server, client, _ := mustServedPair(t, ServiceConfig{}, func(_ context.Context, from peer.ID, req []byte) ([]byte, error) {
		return append([]byte("hello "), req...), nil
	})
	got, err := ask(t, client, server, []byte("lyceum"))
	if err != nil || string(got) != "hello lyceum" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestAPanickingHandlerIsAnsweredCountedAndTheHostLives(t *testing.T) {
	server, client, srv := mustServedPair(t, ServiceConfig{}, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
		if string(req) == "boom" {
			var m map[string]int
			m["x"]++ // nil map: panics
		}
		return []byte("ok"), nil
	})
	_, err := ask(t, client, server, []byte("boom"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Refused {
		t.Fatalf("error %v, want a failure answer", err)
	}
	if strings.Contains(re.Msg, "nil map") {
		t.Errorf("the caller was told the panic: %q", re.Msg)
	}
	if got := counterValue(t, srv.panics.WithLabelValues(string(testProto))); got != 1 {
		t.Errorf("panics counted %v, want 1", got)
	}
	if got, err := ask(t, client, server, []byte("again")); err != nil || string(got) != "ok" {
		t.Fatalf("after the panic: %q, %v", got, err)
	}
}

func TestRefusalsReachTheCallerButInternalErrorsDoNot(t *testing.T) {
	server, client, _ := mustServedPair(t, ServiceConfig{}, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
		if string(req) == "bad" {
			return nil, Refusef("page must be at most %d", 500)
		}
		return nil, errors.New("open /var/lib/lyceum/lyceum.db: disk I/O error")
	})
	_, err := ask(t, client, server, []byte("bad"))
	var re *RemoteError
	if !errors.As(err, &re) || !re.Refused || re.Msg != "page must be at most 500" {
		t.Fatalf("refusal: %v", err)
	}
	_, err = ask(t, client, server, []byte("other"))
	if !errors.As(err, &re) || re.Refused || strings.Contains(re.Msg, "lyceum.db") {
		t.Fatalf("failure: %v", err)
	}
}

func TestOversizedRequestsAreCutOffUnread(t *testing.T) {
	called := false
	server, client, _ := mustServedPair(t, ServiceConfig{MaxRequest: 100}, func(context.Context, peer.ID, []byte) ([]byte, error) {
		called = true
		return nil, nil
	})
	if _, err := ask(t, client, server, bytes.Repeat([]byte("x"), 101)); err == nil {
		t.Fatal("an oversized request was answered")
	}
	if called {
		t.Error("the handler saw an oversized request")
	}
	if _, err := ask(t, client, server, bytes.Repeat([]byte("x"), 100)); err != nil {
		t.Fatalf("a request at the limit: %v", err)
	}
}

func TestAnswersOverTheCallersLimitAreRefusedByTheCaller(t *testing.T) {
	server, client, _ := mustServedPair(t, ServiceConfig{}, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return bytes.Repeat([]byte("y"), 2000), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Request(ctx, client.Libp2p(), server.ID(), testProto, nil, 1000)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("error %v, want ErrFrameTooLarge", err)
	}
}

func TestPeersOverTheirRateAreRefused(t *testing.T) {
	server, client, _ := mustServedPair(t, ServiceConfig{PerPeer: &countLimit{max: 3}}, func(context.Context, peer.ID, []byte) ([]byte, error) {
		return []byte("ok"), nil
	})
	for i := range 3 {
		if _, err := ask(t, client, server, nil); err != nil {
			t.Fatalf("request %d within the burst: %v", i, err)
		}
	}
	_, err := ask(t, client, server, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !re.Refused || re.Msg != ErrRateLimited.Msg {
		t.Fatalf("over the rate: %v", err)
	}
}

func TestSlowHandlersEndAtTheDeadline(t *testing.T) {
	server, client, _ := mustServedPair(t, ServiceConfig{Timeout: 200 * time.Millisecond}, func(ctx context.Context, _ peer.ID, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	start := time.Now()
	if _, err := ask(t, client, server, nil); err == nil {
		t.Fatal("a handler past its deadline answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the caller waited %s", d)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{5, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readFrame(bufio.NewReader(bytes.NewReader(data)), 64)
		if err == nil && len(got) > 64 {
			t.Fatalf("read %d bytes over a limit of 64", len(got))
		}
	})
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// countLimit allows each key max requests in all.
type countLimit struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

func (l *countLimit) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[key]++
	return l.n[key] <= l.max
}
