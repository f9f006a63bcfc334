package doctor

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Blocks are the blocks of the node's store.
type Blocks interface {
	// AllKeysChan lists every block; it ends when ctx does.
	AllKeysChan(ctx context.Context) (<-chan cid.Cid, error)
	// Get reads a block as it is stored, without checking it.
	Get(ctx context.Context, c cid.Cid) (blocks.Block, error)
}

// Logs are the node's copies of actors' logs.
type Logs interface {
	// Head is the highest seq stored for did, and its CID.
	Head(ctx context.Context, did string) (uint64, string, error)
	// Page is up to max entries of did's log below seq below (0: from the
	// head), newest first, at most maxBytes in all.
	Page(ctx context.Context, did string, below uint64, max, maxBytes int) ([][]byte, error)
}

// Deps are what the doctor looks at. Network fields are meaningful only
// when Online.
type Deps struct {
	// RepoPath is the repo's folder, whose filesystem's free space is
	// checked.
	RepoPath string
	Blocks   Blocks
	Logs     Logs
	// LocalActors are the DIDs of the node's own actors, whose logs are
	// walked.
	LocalActors []string

	Online bool
	// Reachability is AutoNAT's verdict: public, private or unknown.
	Reachability string
	// ListenAddrs are the node's swarm addresses, for the advice.
	ListenAddrs []string
	// Peers is how many peers the node is connected to.
	Peers int
	// HQs are the configured HQs as the node last saw them.
	HQs []api.HQStatus
	// ClockOffset is how far the node's clock seems ahead of its peers'
	// (the median delay between the signing and the arrival of recent
	// gossip), over ClockSamples messages (0: no estimate).
	ClockOffset  time.Duration
	ClockSamples int
}

// Options tune the checks; the zero value has the defaults beside each
// field.
type Options struct {
	// SampleBlocks is how many blocks are re-hashed; 0 = 256.
	SampleBlocks int
	// MaxLogEntries bounds the entries walked per actor; 0 = 100,000.
	MaxLogEntries int
	// MinFreeBytes below which free disk space fails; 0 = 512 MiB. Below
	// four times it, it warns.
	MinFreeBytes uint64
}

// Run makes every check and returns the report.
func Run(ctx context.Context, d Deps, o Options) api.DoctorReport {
	if o.SampleBlocks <= 0 {
		o.SampleBlocks = 256
	}
	if o.MaxLogEntries <= 0 {
		o.MaxLogEntries = 100_000
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 512 << 20
	}
	checks := []api.DoctorCheck{
		reachability(d),
		peers(d),
		hqs(d),
		diskSpace(d.RepoPath, o.MinFreeBytes),
		clock(d),
		sampleBlocks(ctx, d.Blocks, o.SampleBlocks),
		walkLogs(ctx, d.Logs, d.LocalActors, o.MaxLogEntries),
	}
	r := api.DoctorReport{OK: true, Checks: checks}
	for _, c := range checks {
		if c.Status == api.CheckFail {
			r.OK = false
		}
	}
	return r
}

const offlineFix = "start `lyceum daemon` and run `lyceum doctor` again while it runs"

func reachability(d Deps) api.DoctorCheck {
	c := api.DoctorCheck{Name: "reachability"}
	if !d.Online {
		c.Status, c.Detail, c.Fix = api.CheckSkipped, "no daemon is running", offlineFix
		return c
	}
	switch d.Reachability {
	case "public":
		c.Status, c.Detail = api.CheckOK, "other nodes can dial this one (AutoNAT: public)"
	case "private":
		c.Status, c.Detail = api.CheckWarn, "other nodes cannot dial this one (AutoNAT: private): it reaches them, and they it only through relays"
		c.Fix = fmt.Sprintf("forward the swarm port (%v) on the router to this machine, or set swarm.nat_port_map = true; on a server, open the port in the firewall", d.ListenAddrs)
	default:
		c.Status, c.Detail = api.CheckWarn, "AutoNAT has not decided yet (it needs a few peers to probe the node)"
		c.Fix = "leave the daemon running for a few minutes with peers connected, then run `lyceum doctor` again"
	}
	return c
}

func peers(d Deps) api.DoctorCheck {
	c := api.DoctorCheck{Name: "peers"}
	if !d.Online {
		c.Status, c.Detail, c.Fix = api.CheckSkipped, "no daemon is running", offlineFix
		return c
	}
	if d.Peers == 0 {
		c.Status, c.Detail = api.CheckWarn, "connected to no peer"
		c.Fix = "connect to a known node (`lyceum connect /ip4/…/tcp/…/p2p/12D3…`), set swarm.bootstrap in config.toml, or check that the firewall lets the swarm port out"
		return c
	}
	c.Status, c.Detail = api.CheckOK, fmt.Sprintf("connected to %d peers", d.Peers)
	return c
}

func hqs(d Deps) api.DoctorCheck {
	c := api.DoctorCheck{Name: "hqs"}
	if !d.Online {
		c.Status, c.Detail, c.Fix = api.CheckSkipped, "no daemon is running", offlineFix
		return c
	}
	if len(d.HQs) == 0 {
		c.Status, c.Detail = api.CheckSkipped, "no HQ configured: searches see only this node's index"
		c.Fix = "to search the whole network, name an HQ in search.hqs in config.toml"
		return c
	}
	var bad []string
	for _, h := range d.HQs {
		switch {
		case h.LastError != "" && h.LastFail.After(h.LastOK):
			bad = append(bad, fmt.Sprintf("%s: %s", h.Peer, h.LastError))
		case !h.Connected && h.LastOK.IsZero():
			bad = append(bad, fmt.Sprintf("%s: not connected", h.Peer))
		}
	}
	if len(bad) > 0 {
		c.Status, c.Detail = api.CheckFail, fmt.Sprintf("%d of %d HQs do not answer: %v", len(bad), len(d.HQs), bad)
		c.Fix = "check each HQ's address in search.hqs (a full multiaddr ending in /p2p/…), that it runs, and that this node can reach it (`lyceum connect ADDR`)"
		return c
	}
	c.Status, c.Detail = api.CheckOK, fmt.Sprintf("%d HQs answer", len(d.HQs))
	return c
}

func diskSpace(path string, minFree uint64) api.DoctorCheck {
	c := api.DoctorCheck{Name: "disk space"}
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		c.Status, c.Detail = api.CheckWarn, fmt.Sprintf("cannot read the free space of %s: %v", path, err)
		return c
	}
	free := st.Bavail * uint64(st.Bsize)
	c.Detail = fmt.Sprintf("%d MiB free in the repo's filesystem", free>>20)
	switch {
	case free < minFree:
		c.Status = api.CheckFail
		c.Fix = "free some space: `lyceum gc` removes unpinned blocks; unpin what the node need not keep; or move the repo to a larger disk ($LYCEUM_PATH)"
	case free < 4*minFree:
		c.Status = api.CheckWarn
		c.Fix = "space is getting short: `lyceum gc` removes unpinned blocks"
	default:
		c.Status = api.CheckOK
	}
	return c
}

// The clock's offset from the network above which the check warns, and
// fails: a node over ten minutes off takes honest relays for replays, and
// fediverse servers refuse its signatures.
const (
	clockWarn = 2 * time.Minute
	clockFail = 10 * time.Minute
	// clockMinSamples is how many gossip messages an estimate needs.
	clockMinSamples = 5
)

// clock compares the node's clock with the dates its peers signed on the
// recent gossip messages.
func clock(d Deps) api.DoctorCheck {
	c := api.DoctorCheck{Name: "clock"}
	const fix = "synchronise the system clock (e.g. `timedatectl set-ntp true`, then `timedatectl status` says \"System clock synchronized: yes\"): signatures carry dates"
	switch {
	case !d.Online:
		c.Status, c.Detail, c.Fix = api.CheckSkipped, "no daemon is running", offlineFix
		return c
	case d.ClockSamples < clockMinSamples:
		c.Status, c.Detail = api.CheckSkipped, fmt.Sprintf("not measured yet: %d gossip messages received, %d needed", d.ClockSamples, clockMinSamples)
		c.Fix = "run `lyceum doctor` again once the node has received news from its peers; meanwhile, " + fix
		return c
	}
	off := d.ClockOffset.Round(time.Second)
	how := fmt.Sprintf("%v ahead of", off)
	if off < 0 {
		how = fmt.Sprintf("%v behind", -off)
	}
	c.Detail = fmt.Sprintf("this clock is about %s the peers' (median over the last %d gossip messages)", how, d.ClockSamples)
	switch abs := max(off, -off); {
	case abs >= clockFail:
		c.Status, c.Fix = api.CheckFail, fix
	case abs >= clockWarn:
		c.Status, c.Fix = api.CheckWarn, fix
	default:
		c.Status = api.CheckOK
	}
	return c
}

// sampleBlocks re-hashes up to n blocks chosen at random (a reservoir
// over the listing) against their CIDs.
func sampleBlocks(ctx context.Context, bs Blocks, n int) api.DoctorCheck {
	c := api.DoctorCheck{Name: "blocks"}
	ch, err := bs.AllKeysChan(ctx)
	if err != nil {
		c.Status, c.Detail = api.CheckFail, fmt.Sprintf("cannot list the blocks: %v", err)
		return c
	}
	sample := make([]cid.Cid, 0, n)
	total := 0
	for k := range ch {
		total++
		if len(sample) < n {
			sample = append(sample, k)
		} else if i := rand.IntN(total); i < n {
			sample[i] = k
		}
	}
	if err := ctx.Err(); err != nil {
		c.Status, c.Detail = api.CheckFail, err.Error()
		return c
	}
	var bad []string
	for _, k := range sample {
		b, err := bs.Get(ctx, k)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s (%v)", k, err))
			continue
		}
		sum, err := k.Prefix().Sum(b.RawData())
		if err != nil || !bytes.Equal(sum.Hash(), k.Hash()) {
			bad = append(bad, k.String())
		}
	}
	if len(bad) > 0 {
		c.Status = api.CheckFail
		c.Detail = fmt.Sprintf("%d of %d blocks checked (of %d) do not match their CIDs: %v", len(bad), len(sample), total, bad)
		c.Fix = "the disk or the filesystem damaged them: check the disk (smartctl, fsck); restore from a backup (`lyceum restore`), or unpin what they belong to, run `lyceum gc`, and fetch it again from the network"
		return c
	}
	c.Status, c.Detail = api.CheckOK, fmt.Sprintf("%d of %d blocks re-hashed: all match their CIDs", len(sample), total)
	return c
}

// walkLogs walks each local actor's log from its head down, checking
// each entry's signature, actor, seq and prev link.
func walkLogs(ctx context.Context, logs Logs, actors []string, max int) api.DoctorCheck {
	c := api.DoctorCheck{Name: "logs"}
	var bad []string
	entries := 0
	for _, did := range actors {
		n, err := walkLog(ctx, logs, did, max)
		entries += n
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", did, err))
		}
	}
	if len(bad) > 0 {
		c.Status, c.Detail = api.CheckFail, fmt.Sprintf("%d of %d local logs are broken: %v", len(bad), len(actors), bad)
		c.Fix = "restore the repo from a backup (`lyceum restore`); a local log cannot be fetched again from the network if the node lost it"
		return c
	}
	c.Status, c.Detail = api.CheckOK, fmt.Sprintf("%d local logs walked (%d entries): seqs and prev links hold", len(actors), entries)
	return c
}

func walkLog(ctx context.Context, logs Logs, did string, max int) (int, error) {
	headSeq, head, err := logs.Head(ctx, did)
	if err != nil {
		return 0, err
	}
	if headSeq == 0 {
		return 0, nil
	}
	want, wantSeq := head, headSeq // the CID and seq the next entry must have
	walked := 0
	for below := headSeq + 1; wantSeq > 0 && walked < max; {
		page, err := logs.Page(ctx, did, below, 256, 4<<20)
		if err != nil {
			return walked, err
		}
		if len(page) == 0 {
			return walked, fmt.Errorf("entry %d is missing", wantSeq)
		}
		for _, data := range page {
			a, k, err := activity.VerifyBlock(data)
			if err != nil {
				return walked, fmt.Errorf("entry %d: %v", wantSeq, err)
			}
			switch {
			case a.Actor != did:
				return walked, fmt.Errorf("entry %d is %s's", wantSeq, a.Actor)
			case a.Seq != wantSeq:
				return walked, fmt.Errorf("entry %d is missing (found %d)", wantSeq, a.Seq)
			case k.String() != want:
				return walked, fmt.Errorf("entry %d is %s, the next entry links to %s", a.Seq, k, want)
			case a.Seq == 1 && a.Prev != "":
				return walked, fmt.Errorf("entry 1 links to %s", a.Prev)
			case a.Seq > 1 && a.Prev == "":
				return walked, fmt.Errorf("entry %d links to nothing", a.Seq)
			}
			walked++
			want, wantSeq, below = a.Prev, a.Seq-1, a.Seq
			if wantSeq == 0 || walked >= max {
				break
			}
		}
	}
	return walked, nil
}
