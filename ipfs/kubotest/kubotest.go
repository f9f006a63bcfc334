package kubotest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Binary finds Kubo's ipfs: $LYCEUM_KUBO, or where docs/bench/kubo.sh
// builds it. Without one the test is skipped, except in CI (CI=true),
// where .ci/run builds it first and a missing Kubo is a failure.
func Binary(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("LYCEUM_KUBO")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "lyceum-peers", "bin", "ipfs")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no Kubo at %s: .ci/run builds it with docs/bench/kubo.sh", path)
		}
		tb.Skipf("no Kubo at %s (docs/bench/kubo.sh builds it)", path)
	}
	return path
}

// Kubo is a running Kubo daemon with its own repo.
type Kubo struct {
	Bin, Repo string
	ID        peer.ID
	// Addr is its loopback TCP listen address, without /p2p/.
	Addr ma.Multiaddr
}

// Start starts a Kubo daemon and stops it when the test ends. It skips
// with -short.
func Start(tb testing.TB) *Kubo {
	tb.Helper()
	if testing.Short() {
		tb.Skip("starts a Kubo daemon")
	}
	k := &Kubo{Bin: Binary(tb), Repo: tb.TempDir()}
	k.Run(tb, "init", "--profile=test", "-e")
	for _, kv := range [][]string{
		{"--json", "AutoConf.Enabled", "false"},
		{"--json", "Plugins.Plugins.telemetry.Disabled", "true"},
		{"Routing.Type", "dhtserver"},
		{"--json", "Bootstrap", "[]"},
		{"--json", "Discovery.MDNS.Enabled", "false"},
		{"Addresses.API", "/ip4/127.0.0.1/tcp/0"},
		{"Addresses.Gateway", "/ip4/127.0.0.1/tcp/0"},
		{"--json", "Addresses.Swarm", `["/ip4/127.0.0.1/tcp/0"]`},
	} {
		k.Run(tb, append([]string{"config"}, kv...)...)
	}
	k.startDaemon(tb)
	id, err := peer.Decode(strings.TrimSpace(k.Run(tb, "config", "Identity.PeerID")))
	if err != nil {
		tb.Fatal(err)
	}
	k.ID = id
	for _, line := range strings.Fields(k.Run(tb, "id", "-f", "<addrs>")) {
		if strings.HasPrefix(line, "/ip4/127.0.0.1/tcp/") {
			if a, err := ma.NewMultiaddr(strings.TrimSuffix(line, "/p2p/"+id.String())); err == nil {
				k.Addr = a
				break
			}
		}
	}
	if k.Addr == nil {
		tb.Fatal("Kubo has no loopback TCP address")
	}
	return k
}

// startDaemon runs `ipfs daemon` until it says it is ready.
func (k *Kubo) startDaemon(tb testing.TB) {
	tb.Helper()
	cmd := exec.Command(k.Bin, "daemon")
	cmd.Env = k.env()
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Daemon is ready") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			tb.Fatal("Kubo daemon exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		tb.Fatal("Kubo daemon not ready after 60 s")
	}
}

func (k *Kubo) env() []string {
	return append(os.Environ(), "IPFS_PATH="+k.Repo, "IPFS_TELEMETRY=off")
}

// Run runs an ipfs command on k's repo and returns its standard output;
// a failure fails the test.
func (k *Kubo) Run(tb testing.TB, args ...string) string {
	tb.Helper()
	return string(k.RunIn(tb, nil, args...))
}

// RunIn is Run with stdin as the command's standard input.
func (k *Kubo) RunIn(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(k.Bin, args...)
	cmd.Env = k.env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("ipfs %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}
