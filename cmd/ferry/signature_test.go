package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestSignature_SSHKeygenVerifies: the index signature is checked by
// `ssh-keygen -Y verify` alone, with the commands README gives.
func TestSignature_SSHKeygenVerifies(t *testing.T) {
	keygen := runtimetest.NeedTool(t, "ssh-keygen")
	s, good := goodBundle(t)
	es := readEntries(t, good)
	if es[0].hdr.Name != "ferry-index.json" || es[1].hdr.Name != "ferry-index.json.sig" {
		t.Fatalf("first entries = %s, %s", es[0].hdr.Name, es[1].hdr.Name)
	}
	sig := filepath.Join(s.dir, "index.sig")
	os.WriteFile(sig, es[1].data, 0o644)
	pub, _ := os.ReadFile(filepath.Join(s.hq, "keys", "id_ed25519.pub"))
	f := strings.Fields(string(pub))
	allowed := filepath.Join(s.dir, "allowed_signers")
	os.WriteFile(allowed, []byte("hq "+f[0]+" "+f[1]+"\n"), 0o644)
	verify := func(msg []byte) error {
		cmd := exec.Command(keygen, "-Y", "verify", "-f", allowed, "-I", "hq", "-n", "ferry-bundle", "-s", sig)
		cmd.Stdin = bytes.NewReader(msg)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &exec.ExitError{Stderr: out}
		}
		return nil
	}
	if err := verify(es[0].data); err != nil {
		t.Fatalf("ssh-keygen -Y verify of the index: %v: %s", err, err.(*exec.ExitError).Stderr)
	}
	changed := bytes.Replace(es[0].data, []byte("v1"), []byte("v9"), 1)
	if err := verify(changed); err == nil {
		t.Errorf("ssh-keygen -Y verify accepted a modified index")
	}
}

// TestSignature_UnknownSigner: a bundle signed by a site that is not
// registered, or by another key under a registered name, is refused and
// writes nothing; --insecure-skip-signature reads it.
func TestSignature_UnknownSigner(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	rogue := filepath.Join(s.dir, "rogue")
	must(t, rogue, "init", "--site", "rogue")
	b := filepath.Join(s.dir, "rogue.ferry")
	must(t, rogue, "save", "oci:"+src+":v1", "-o", b)
	r := run(t, s.site, "load", b)
	if r.code != 1 || !strings.Contains(r.stderr, "unknown site") || !strings.Contains(r.stderr, "rogue") {
		t.Errorf("load of a bundle by an unknown site = %s, want exit 1 naming it", r)
	}
	// A rogue that calls itself hq.
	fake := filepath.Join(s.dir, "fakehq")
	must(t, fake, "init", "--site", "hq")
	fb := filepath.Join(s.dir, "fake.ferry")
	must(t, fake, "save", "oci:"+src+":v1", "-o", fb)
	r = run(t, s.site, "verify", fb)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "registered with key") {
		t.Errorf("verify of a bundle by another key named hq = %s, want exit 1", r)
	}
	if names := lsNames(t, s.site); len(names) != 0 {
		t.Errorf("refused bundles recorded images %v", names)
	}
	blobs, _ := os.ReadDir(filepath.Join(s.site, "store", "blobs", "sha256"))
	if len(blobs) != 0 {
		t.Errorf("refused bundles left %d blobs in the store", len(blobs))
	}
	must(t, s.site, "load", "--insecure-skip-signature", b)
	if names := lsNames(t, s.site); len(names) != 1 {
		t.Errorf("after load --insecure-skip-signature, ls = %v", names)
	}
	r = must(t, s.site, "inspect", fb)
	if !strings.Contains(r.stdout, "NOT TRUSTED") {
		t.Errorf("inspect of an untrusted bundle = %s, want it to say NOT TRUSTED", r)
	}
}
