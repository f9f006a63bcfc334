package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unitFile is the systemd unit shipped in contrib/.
const unitFile = "../../contrib/systemd/lyceum.service"

// The unit parses, and systemd accepts every key and value in it: the
// check runs `systemd-analyze verify` on a copy whose ExecStart is the
// binary these tests built (verify refuses a command that does not exist).
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is missing under CI=true (apt-get install systemd): %v", err)
		}
		t.Skip("systemd-analyze not found (apt-get install systemd): the unit in contrib/systemd is not checked")
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	execStart := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/lyceum `)
	if !execStart.Match(unit) {
		t.Fatalf("%s: no line starts with %q", unitFile, "ExecStart=/usr/local/bin/lyceum ")
	}
	copied := execStart.ReplaceAll(unit, []byte("ExecStart="+lyceumBin+" "))
	path := filepath.Join(t.TempDir(), "lyceum.service")
	if err := os.WriteFile(path, copied, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(analyze, "verify", "--man=no", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	// verify only warns, and exits 0, on an unknown key or a bad value.
	if err != nil || out.Len() > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unitFile, err, out.String())
	}
}

// The hardening the README promises stays in the unit.
func TestSystemdUnitIsHardened(t *testing.T) {
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(unit), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"DynamicUser=yes",
		"StateDirectory=lyceum",
		"Environment=LYCEUM_PATH=/var/lib/lyceum",
		"ProtectSystem=strict",
		"ProtectHome=yes",
		"NoNewPrivileges=yes",
		"PrivateTmp=yes",
		"PrivateDevices=yes",
		"CapabilityBoundingSet=",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"SystemCallFilter=@system-service",
		"Restart=on-failure",
		"LimitNOFILE=65536",
	} {
		if !lines[want] {
			t.Errorf("%s lacks the line %q", unitFile, want)
		}
	}
}
