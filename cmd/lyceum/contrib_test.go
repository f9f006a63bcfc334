package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The container and the systemd unit start a node with their own command
// and environment. The image itself is not built here (no Docker daemon,
// no network in CI): the test runs the command the image runs, from the
// Dockerfile's own ENV and CMD, on a fresh repo, and adds only --offline,
// so that no public peer is dialled.

// freePort is a TCP port free on loopback now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// wantWebApp fails unless the node answers its web app on port.
func wantWebApp(t *testing.T, port string) {
	t.Helper()
	res, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Lyceum") {
		t.Fatalf("GET /: %d\n%.300s", res.StatusCode, body)
	}
}

func TestTheContainersCommandStartsANode(t *testing.T) {
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	field := func(re string) string {
		m := regexp.MustCompile(`(?m)^` + re + `\s*$`).FindSubmatch(df)
		if m == nil {
			t.Fatalf("the Dockerfile has no line %s", re)
		}
		return string(m[1])
	}
	repoPath, volume, user := field(`ENV LYCEUM_PATH=(\S+)`), field(`VOLUME (\S+)`), field(`USER (\S+)`)
	if volume != repoPath {
		t.Fatalf("the repo (%s) is not the volume (%s)", repoPath, volume)
	}
	if user == "0" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0:") {
		t.Fatalf("the image runs as %s", user)
	}
	if field(`ENTRYPOINT (\[.*\])`) != `["lyceum"]` {
		t.Fatal("the entrypoint is not lyceum")
	}
	var args []string
	if err := json.Unmarshal([]byte(field(`CMD (\[.*\])`)), &args); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	line := strings.Join(args, " ")
	if !strings.Contains(line, "--http 0.0.0.0:5101") {
		t.Fatalf("the container's daemon does not listen on 0.0.0.0:5101: %v", args)
	}
	for i, a := range args {
		args[i] = strings.Replace(a, "0.0.0.0:5101", "0.0.0.0:"+port, 1)
	}
	repo := filepath.Join(t.TempDir(), "data") // the volume, empty on first run
	startLyceum(t, repo, append(args, "--offline")...)
	wantWebApp(t, port)
}

func TestTheSystemdUnitsCommandStartsANode(t *testing.T) {
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/lyceum (.*)$`).FindSubmatch(unit)
	if m == nil || !regexp.MustCompile(`(?m)^Environment=LYCEUM_PATH=/var/lib/lyceum$`).Match(unit) {
		t.Fatalf("%s: no ExecStart of lyceum, or no LYCEUM_PATH", unitFile)
	}
	args := strings.Fields(string(m[1]))
	port := freePort(t)
	repo := filepath.Join(t.TempDir(), "lyceum") // the StateDirectory, empty on first run
	startLyceum(t, repo, append(args, "--offline", "--http", "127.0.0.1:"+port)...)
	wantWebApp(t, port)
	cfg, err := os.ReadFile(filepath.Join(repo, "config.toml"))
	if err != nil || !regexp.MustCompile(`(?m)^profile = ["']server["']`).Match(cfg) {
		t.Fatalf("the unit's node is not on the server profile: %v", err)
	}
}
