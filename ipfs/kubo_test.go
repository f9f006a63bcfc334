package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// kuboBinary finds Kubo's ipfs: $LYCEUM_KUBO, or where docs/bench/kubo.sh
// builds it. Without one the interop tests skip, except in CI, where
// .ci/run builds it first and a missing Kubo is a failure.
func kuboBinary(tb testing.TB) string {
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

// kubo is a Kubo daemon on loopback, configured as in docs/bench/vs-kubo.sh.
type kubo struct {
	bin, repo string
	id        peer.ID
	addr      ma.Multiaddr
}

func startKubo(tb testing.TB) *kubo {
	tb.Helper()
	if testing.Short() {
		tb.Skip("starts a Kubo daemon")
	}
	k := &kubo{bin: kuboBinary(tb), repo: tb.TempDir()}
	k.run(tb, "init", "--profile=test", "-e")
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
		k.run(tb, append([]string{"config"}, kv...)...)
	}
	cmd := exec.Command(k.bin, "daemon")
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
	id, err := peer.Decode(strings.TrimSpace(k.run(tb, "config", "Identity.PeerID")))
	if err != nil {
		tb.Fatal(err)
	}
	k.id = id
	for _, line := range strings.Fields(k.run(tb, "id", "-f", "<addrs>")) {
		if strings.HasPrefix(line, "/ip4/127.0.0.1/tcp/") {
			a, err := ma.NewMultiaddr(strings.TrimSuffix(line, "/p2p/"+id.String()))
			if err == nil {
				k.addr = a
				break
			}
		}
	}
	if k.addr == nil {
		tb.Fatal("Kubo has no loopback TCP address")
	}
	return k
}

func (k *kubo) env() []string {
	return append(os.Environ(), "IPFS_PATH="+k.repo, "IPFS_TELEMETRY=off")
}

// run runs an ipfs command on k's repo and returns its standard output.
func (k *kubo) run(tb testing.TB, args ...string) string {
	tb.Helper()
	return string(k.runIn(tb, nil, args...))
}

func (k *kubo) runIn(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(k.bin, args...)
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

// connectKubo starts a Lyceum node on an on-disk store and connects it to k.
func connectKubo(tb testing.TB, k *kubo) *Content {
	tb.Helper()
	c := MustOnline(tb, MustOpenStore(tb, tb.TempDir()))
	if err := hostOf(c).Connect(context.Background(), peer.AddrInfo{ID: k.id, Addrs: []ma.Multiaddr{k.addr}}); err != nil {
		tb.Fatalf("connect to Kubo: %v", err)
	}
	return c
}

func TestKuboAddsLyceumFetches(t *testing.T) {
	k := startKubo(t)
	c := connectKubo(t, k)
	for _, flags := range [][]string{nil, {"--cid-version", "1"}} {
		data := randomBytes(50+uint64(len(flags)), 3<<20+17)
		out := k.runIn(t, data, append([]string{"add", "-Q"}, flags...)...)
		root, err := cid.Decode(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		equalBytes(t, MustCat(t, c, root), data) // over bitswap: Kubo has no DAG streams
		// The same bytes added here give the CID Kubo gave.
		o := ImportOptions{}
		if flags != nil {
			o.CIDVersion = 1
		}
		if mine := MustAddBytes(t, MustMemContent(t), data, o); !mine.Equals(root) {
			t.Errorf("Lyceum adds %s, Kubo added %s", mine, root)
		}
		if err := c.Pin(context.Background(), root); err != nil {
			t.Fatalf("pin what Kubo added: %v", err)
		}
	}
	if st := mustStat(t, c); st.BlocksReceived == 0 || st.StreamBlocksReceived != 0 {
		t.Errorf("bitswap brought %d blocks, streams %d: want bitswap only", st.BlocksReceived, st.StreamBlocksReceived)
	}
}

func TestLyceumAddsKuboFetches(t *testing.T) {
	k := startKubo(t)
	c := connectKubo(t, k)
	for _, o := range []ImportOptions{{Pin: true}, {Pin: true, CIDVersion: 1}} {
		data := randomBytes(60+uint64(o.CIDVersion), 3<<20+29)
		root := MustAddBytes(t, c, data, o)
		got := k.runIn(t, nil, "cat", root.String())
		equalBytes(t, got, data)
		// Kubo computes the same CID for the bytes it fetched.
		if again := strings.TrimSpace(k.run(t, "add", "-Q", "--only-hash", "--cid-version", []string{"0", "1"}[o.CIDVersion], writeTemp(t, data))); again != root.String() {
			t.Errorf("Kubo hashes the bytes to %s, Lyceum added %s", again, root)
		}
	}
	// A CAR exported here is imported whole by Kubo.
	data := randomBytes(70, 1<<20)
	root := MustAddBytes(t, c, data, ImportOptions{Pin: true})
	var car bytes.Buffer
	if err := c.ExportCAR(context.Background(), root, &car); err != nil {
		t.Fatal(err)
	}
	k.runIn(t, car.Bytes(), "dag", "import", "--pin-roots=false")
	equalBytes(t, k.runIn(t, nil, "cat", "--offline", root.String()), data)
}

func writeTemp(tb testing.TB, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "f")
	mustWrite(tb, p, data)
	return p
}
