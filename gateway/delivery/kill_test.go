package delivery_test

import (
	"bufio"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
