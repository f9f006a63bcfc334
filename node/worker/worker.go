package worker

import (
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Group owns goroutines: Go starts one, Wait waits for all of them.
type Group struct {
	wg     sync.WaitGroup
	log    *slog.Logger
	panics *prometheus.CounterVec
}

// Panics is the counter of recovered panics, by where they happened: one
// per node, registered in its registry.
func Panics() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lyceum_node_panics_total",
		Help: "Panics recovered in the node's loops and workers, by where they happened.",
	}, []string{"where"})
}

// NewGroup returns a Group that logs to log and counts panics in panics
// (nil: not counted).
func NewGroup(log *slog.Logger, panics *prometheus.CounterVec) *Group {
	if log == nil {
		log = slog.Default()
	}
	return &Group{log: log, panics: panics}
}

// Go runs f on a goroutine of the group. f must return when the context it
// was given ends.
func (g *Group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

// Wait waits for every goroutine of the group to return.
func (g *Group) Wait() { g.wg.Wait() }

// Survive runs f, recovering a panic: it is logged with its stack and
// counted under where.
func (g *Group) Survive(where string, f func()) {
	defer func() {
		if p := recover(); p != nil {
			if g.panics != nil {
				g.panics.WithLabelValues(where).Inc()
			}
			g.log.Error("panic recovered", "where", where, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	f()
}
