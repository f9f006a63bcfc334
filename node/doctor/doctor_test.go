package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/doctor"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// noBlocks is an empty store.
type noBlocks struct{}

func (noBlocks) AllKeysChan(context.Context) (<-chan cid.Cid, error) {
	ch := make(chan cid.Cid)
	close(ch)
	return ch, nil
}

func (noBlocks) Get(context.Context, cid.Cid) (blocks.Block, error) { return nil, nil }

// lossyLogs hides one seq of every log, as a damaged database would.
type lossyLogs struct {
	doctor.Logs
	lost uint64
}

func (l lossyLogs) Page(ctx context.Context, did string, below uint64, max, maxBytes int) ([][]byte, error) {
	page, err := l.Logs.Page(ctx, did, below, max, maxBytes)
	var out [][]byte
	for _, data := range page {
		if a, _, err := activity.VerifyBlock(data); err == nil && a.Seq == l.lost {
			continue
		}
		out = append(out, data)
	}
	return out, err
}

// The log walk follows each local log from its head to its first entry,
// and names the entry a log lost.
func TestTheLogWalkFindsALostEntry(t *testing.T) {
	ctx := context.Background()
	n := nodetest.MustNode(t, nodetest.Options{Offline: true})
	ada := nodetest.MustPerson(t, n, "ada")
	for _, title := range []string{"One", "Two", "Three"} {
		nodetest.MustPublish(t, n, "ada", title)
	}
	check := func(logs doctor.Logs) api.DoctorCheck {
		rep := doctor.Run(ctx, doctor.Deps{RepoPath: t.TempDir(), Blocks: noBlocks{}, Logs: logs, LocalActors: []string{ada.DID}}, doctor.Options{})
		for _, c := range rep.Checks {
			if c.Name == "logs" {
				return c
			}
		}
		t.Fatal("no logs check")
		return api.DoctorCheck{}
	}
	if c := check(n.Log()); c.Status != api.CheckOK {
		t.Fatalf("a whole log: %+v", c)
	}
	if c := check(lossyLogs{Logs: n.Log(), lost: 2}); c.Status != api.CheckFail || !strings.Contains(c.Detail, "entry 2 is missing") || c.Fix == "" {
		t.Fatalf("a log without its entry 2: %+v", c)
	}
}

// The clock check says how far the node's clock is from its peers', by
// the dates they signed on recent gossip, and what to do.
func TestTheClockCheckSaysHowFarOffTheNodeIs(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		online  bool
		offset  time.Duration
		samples int
		status  string
		detail  string
	}{
		{"offline", false, 0, 0, api.CheckSkipped, "no daemon"},
		{"too little gossip", true, time.Hour, 2, api.CheckSkipped, "2 gossip messages received"},
		{"in step", true, 3 * time.Second, 40, api.CheckOK, "3s ahead of"},
		{"a few minutes ahead", true, 4 * time.Minute, 40, api.CheckWarn, "4m0s ahead of"},
		{"far behind", true, -2 * time.Hour, 40, api.CheckFail, "2h0m0s behind"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := doctor.Run(ctx, doctor.Deps{RepoPath: t.TempDir(), Blocks: noBlocks{}, Online: c.online,
				ClockOffset: c.offset, ClockSamples: c.samples}, doctor.Options{})
			for _, ch := range rep.Checks {
				if ch.Name != "clock" {
					continue
				}
				if ch.Status != c.status || !strings.Contains(ch.Detail, c.detail) || (c.status != api.CheckOK && ch.Fix == "") {
					t.Fatalf("%+v", ch)
				}
				return
			}
			t.Fatal("no clock check")
		})
	}
}
