package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestStart_NoCollectionDuringInit: no garbage collection runs while the
// process's packages are initialised (internal/initgc turns it off from
// before Helm's and Kubernetes' inits until main), which cost a fifth of
// every command's start. (internal/initgc's test checks Restore.)
func TestStart_NoCollectionDuringInit(t *testing.T) {
	cmd := exec.Command(os.Args[0], "version")
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "GODEBUG=inittrace=1,gctrace=1", "GOGC=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ferry version: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(stderr.String(), "\n")
	lastInit, inits := -1, 0
	var heavy bool
	for i, l := range lines {
		if strings.HasPrefix(l, "init ") {
			lastInit, inits = i, inits+1
			heavy = heavy || strings.HasPrefix(l, "init k8s.io/client-go/kubernetes/scheme ")
		}
	}
	if inits < 100 || !heavy {
		t.Fatalf("GODEBUG=inittrace=1 traced %d package inits, Kubernetes' scheme among them: %v; want the whole process's", inits, heavy)
	}
	for _, l := range lines[:lastInit] {
		if strings.HasPrefix(l, "gc ") {
			t.Errorf("a collection ran during package init: %s", l)
		}
	}
}
