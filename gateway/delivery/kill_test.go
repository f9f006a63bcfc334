package delivery_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lyceum-oer/lyceum/gateway/delivery"
)

const childEnv = "LYCEUM_DELIVERY_KILL_CHILD"

// TestAcknowledgedSurvivesKill enqueues in a child process, kills it with
// SIGKILL after it acknowledged three batches, and reopens the queue:
// every acknowledged delivery is there, and no batch is there in part.
func TestAcknowledgedSurvivesKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "q.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcknowledgedSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "acknowledged "); ok {
			fmt.Sscan(n, &acked)
			if acked >= 300 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 300 {
		t.Fatalf("child acknowledged %d", acked)
	}
	q, err := delivery.Open(path, delivery.WithSigner(delivery.SignerFunc(func(string) (*rsa.PrivateKey, error) {
		return nil, errors.New("no keys")
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p := q.Stats().Pending
	if p < int64(acked) || p%100 != 0 {
		t.Fatalf("%d deliveries after the kill; %d were acknowledged, in batches of 100", p, acked)
	}
	t.Logf("%d acknowledged before SIGKILL, %d found after", acked, p)
}

func killChild(path string) {
	q, err := delivery.Open(path, delivery.WithSigner(delivery.SignerFunc(func(string) (*rsa.PrivateKey, error) {
		return nil, errors.New("no keys")
	})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; i < 1000; i++ {
		inboxes := make([]string, 100)
		for j := range inboxes {
			inboxes[j] = fmt.Sprintf("https://h%d.example/inbox", i*100+j)
		}
		if err := q.EnqueueBatch(context.Background(), keyID, body, inboxes); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("acknowledged %d\n", (i+1)*100)
	}
	os.Exit(0)
}

const runChildEnv = "LYCEUM_DELIVERY_RUN_CHILD"

// TestKilledMidDeliveryLosesNothing runs the queue in a child process that
// is killed with SIGKILL while POSTs are in flight, then runs the same
// queue file here: every inbox gets the activity at least once.
func TestKilledMidDeliveryLosesNothing(t *testing.T) {
	if env := os.Getenv(runChildEnv); env != "" {
		path, inboxList, _ := strings.Cut(env, "|")
		runChild(path, strings.Split(inboxList, ","))
		return
	}
	var mu sync.Mutex
	got := map[string]int{}
	calls := 0
	var holding atomic.Bool
	holding.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if holding.Load() && n > 10 {
			<-r.Context().Done() // in flight until the sender dies
			return
		}
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var targets []string
	for i := range 40 {
		targets = append(targets, fmt.Sprintf("%s/inbox/%d", srv.URL, i))
	}
	path := filepath.Join(t.TempDir(), "q.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidDeliveryLosesNothing$", "-test.count=1")
	cmd.Env = append(os.Environ(), runChildEnv+"="+path+"|"+strings.Join(targets, ","))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "POSTs in flight in the child", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return calls >= 14
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	holding.Store(false)

	q := openQueue(t, path)
	pending := q.Stats().Pending
	run(t, q)
	waitFor(t, "every inbox", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(targets)
	})
	waitFor(t, "an empty queue", func() bool { return q.Stats().Pending == 0 })
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	t.Logf("40 deliveries, %d pending after SIGKILL, %d duplicates", pending, dups)
	if pending < 30 {
		t.Fatalf("only %d pending after the kill: at most 10 were accepted", pending)
	}
}

func runChild(path string, inboxes []string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	q, err := delivery.Open(path,
		delivery.WithSigner(delivery.SignerFunc(func(string) (*rsa.PrivateKey, error) { return k, nil })),
		delivery.WithHTTPClient(delivery.NewHTTPClient(delivery.WithAllowedNetworks(loopback))),
		delivery.WithPerHost(4))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := q.EnqueueBatch(context.Background(), keyID, body, inboxes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = q.Run(context.Background()) // until killed
	os.Exit(0)
}
