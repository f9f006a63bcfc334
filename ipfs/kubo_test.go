package ipfs

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/ipfs/kubotest"
)

// connectKubo starts a Lyceum node on an on-disk store and connects it to k.
func connectKubo(tb testing.TB, k *kubotest.Kubo) *Content {
	tb.Helper()
	c := MustOnline(tb, MustOpenStore(tb, tb.TempDir()))
	if err := hostOf(c).Connect(context.Background(), peer.AddrInfo{ID: k.ID, Addrs: []ma.Multiaddr{k.Addr}}); err != nil {
		tb.Fatalf("connect to Kubo: %v", err)
	}
	return c
}

func TestKuboAddsLyceumFetches(t *testing.T) {
	k := kubotest.Start(t)
	c := connectKubo(t, k)
	for _, flags := range [][]string{nil, {"--cid-version", "1"}} {
		data := randomBytes(50+uint64(len(flags)), 3<<20+17)
		out := k.RunIn(t, data, append([]string{"add", "-Q"}, flags...)...)
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
	k := kubotest.Start(t)
	c := connectKubo(t, k)
	for _, o := range []ImportOptions{{Pin: true}, {Pin: true, CIDVersion: 1}} {
		data := randomBytes(60+uint64(o.CIDVersion), 3<<20+29)
		root := MustAddBytes(t, c, data, o)
		got := k.RunIn(t, nil, "cat", root.String())
		equalBytes(t, got, data)
		// Kubo computes the same CID for the bytes it fetched.
		if again := strings.TrimSpace(k.Run(t, "add", "-Q", "--only-hash", "--cid-version", []string{"0", "1"}[o.CIDVersion], writeTemp(t, data))); again != root.String() {
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
	k.RunIn(t, car.Bytes(), "dag", "import", "--pin-roots=false")
	equalBytes(t, k.RunIn(t, nil, "cat", "--offline", root.String()), data)
}

func writeTemp(tb testing.TB, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "f")
	mustWrite(tb, p, data)
	return p
}
