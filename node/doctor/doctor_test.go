package doctor_test

import (
	"context"
	"strings"
	"testing"

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
