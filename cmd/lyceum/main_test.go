package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lyceumBin is the real binary, built once for the end-to-end tests.
var lyceumBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lyceum-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lyceumBin = filepath.Join(dir, "lyceum")
	args := []string{"build", "-o", lyceumBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lyceum:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one CLI run printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

// lyceum runs the binary on repo and returns its output and exit code.
func lyceum(tb testing.TB, repo string, args ...string) result {
	tb.Helper()
	cmd := exec.Command(lyceumBin, args...)
	cmd.Env = append(os.Environ(), "LYCEUM_PATH="+repo)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("run lyceum %v: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

// mustLyceum runs the binary and fails the test unless it exits 0.
func mustLyceum(tb testing.TB, repo string, args ...string) string {
	tb.Helper()
	r := lyceum(tb, repo, args...)
	if r.code != 0 {
		tb.Fatalf("lyceum %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// daemon is a `lyceum daemon` process.
type daemon struct {
	cmd    *exec.Cmd
	repo   string
	stderr *bytes.Buffer
	done   chan error
}

// startDaemon runs `lyceum daemon --profile test` on repo (creating it on
// first run) and waits until it says it is ready.
func startDaemon(tb testing.TB, repo string, extra ...string) *daemon {
	tb.Helper()
	return startLyceum(tb, repo, append([]string{"daemon", "--profile", "test"}, extra...)...)
}

// startLyceum runs lyceum with args (a daemon command) on repo and waits
// until it says it is ready.
func startLyceum(tb testing.TB, repo string, args ...string) *daemon {
	tb.Helper()
	cmd := exec.Command(lyceumBin, args...)
	cmd.Env = append(os.Environ(), "LYCEUM_PATH="+repo)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	d := &daemon{cmd: cmd, repo: repo, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if sc.Text() == "daemon is ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { d.done <- cmd.Wait() }()
	select {
	case ok := <-ready:
		if !ok {
			<-d.done
			tb.Fatalf("daemon exited before it was ready:\n%s", d.stderr)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		tb.Fatalf("daemon not ready after 60 s:\n%s", d.stderr)
	}
	tb.Cleanup(func() { d.stop(tb) })
	return d
}

// stop sends SIGINT and waits for a clean exit.
func (d *daemon) stop(tb testing.TB) {
	tb.Helper()
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-d.done:
		if err != nil {
			tb.Errorf("daemon did not exit cleanly: %v\n%s", err, d.stderr)
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		tb.Errorf("daemon still running 30 s after SIGINT")
	}
}

// kill ends the daemon with SIGKILL, as a crash or power cut would.
func (d *daemon) kill(tb testing.TB) {
	tb.Helper()
	_ = d.cmd.Process.Kill()
	<-d.done
}

func writeFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// pseudoRandom returns n deterministic bytes that do not compress.
func pseudoRandom(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func jsonField(tb testing.TB, out, field string) any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, out)
	}
	return m[field]
}
