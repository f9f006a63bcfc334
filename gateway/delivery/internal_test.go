package delivery

import (
	"crypto/rsa"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{t0.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999999999999", 0},
		{"9999999999", time.Duration(1<<31) * time.Second},
	} {
		if got := retryAfter(tc.v, t0); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 12: 12 * time.Hour, 40: 12 * time.Hour} {
		for range 20 {
			got := backoff(n, 30*time.Second, 12*time.Hour)
			if got < want*3/4 || got > want*5/4 {
				t.Fatalf("backoff(%d) = %v, want %v ±25%%", n, got, want)
			}
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add(t0.Add(time.Minute).Format(http.TimeFormat))
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, t0); d < 0 {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}

// delivery.db opens through the node's SQLite helper: owner-only, even a
// file an older version left readable by others, and with foreign keys
// on, which keep a delivery from outliving its body.
func TestTheQueueFileIsPrivateAndKeepsItsForeignKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "delivery.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := Open(path, WithSigner(SignerFunc(func(string) (*rsa.PrivateKey, error) { return nil, errors.New("no keys") })))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, err %v; want 0600", st.Mode().Perm(), err)
	}
	var fk int
	if err := q.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, err %v", fk, err)
	}
	if _, err := q.db.Exec(`INSERT INTO deliveries (body_id, inbox, host, created, next_at) VALUES (42, 'https://x.example/inbox', 'x.example', 0, 0)`); err == nil {
		t.Fatal("a delivery of a body that does not exist was stored")
	}
}
