package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/release"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// fakeRelease writes a release directory as make release does, for this
// platform: the binary exe, SHA256SUMS and its signature by a throwaway
// key. It returns the directory, the platform and the key's .pub file.
func fakeRelease(t *testing.T, exe []byte) (dir, platform, pub string) {
	t.Helper()
	runtimetest.NeedTool(t, "ssh-keygen")
	dir = filepath.Join(t.TempDir(), "dist")
	os.MkdirAll(dir, 0o755)
	platform = goruntime.GOOS + "/" + goruntime.GOARCH
	name, _ := release.BinaryName(platform)
	os.WriteFile(filepath.Join(dir, name), exe, 0o755)
	var sums bytes.Buffer
	release.WriteSums(&sums, map[string]digest.Digest{name: digest.FromBytes(exe), "ferry-plan9-mips": digest.FromString("other")})
	os.WriteFile(filepath.Join(dir, release.SumsFile), sums.Bytes(), 0o644)
	key := filepath.Join(t.TempDir(), "release")
	for _, args := range [][]string{{"-q", "-t", "ed25519", "-N", "", "-C", "release@ferry", "-f", key},
		{"-Y", "sign", "-f", key, "-n", release.Namespace, filepath.Join(dir, release.SumsFile)}} {
		if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
		}
	}
	return dir, platform, key + ".pub"
}

// TestSave_WithFerry: save --with-ferry carries the release's binary,
// SHA256SUMS and its signature as signed extras; verify checks them; load
// writes them beside the bundle with their exact bytes, where sha256sum
// -c and ssh-keygen -Y verify accept them and the binary runs; tar lists
// them by name, so a ferry too old to know the kind is no dead end.
func TestSave_WithFerry(t *testing.T) {
	runtimetest.NeedTool(t, "zstd")
	exe, err := os.ReadFile(os.Args[0]) // this test program, which runs as ferry with FERRY_TEST_AS_FERRY=1
	if err != nil {
		t.Fatal(err)
	}
	dir, platform, pub := fakeRelease(t, exe)
	name, _ := release.BinaryName(platform)
	src, _ := chain(t, 1, 1024)
	s := newSites(t)
	stick := filepath.Join(s.dir, "stick")
	os.MkdirAll(stick, 0o755)
	bundle := filepath.Join(stick, "trip.ferry")
	r := must(t, s.hq, "save", "oci:"+src+":v1", "--for", "plant-7", "--with-ferry", platform,
		"--ferry-release", dir, "--release-key", pub, "-o", bundle)
	if !strings.Contains(r.stdout, "3 release file(s)") {
		t.Errorf("save --with-ferry = %s, want it to count the release files", r)
	}
	out, err := exec.Command("tar", "--zstd", "-tf", bundle).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "extras/"+name+"\n") || !strings.Contains(string(out), "extras/SHA256SUMS.sig\n") {
		t.Errorf("tar --zstd -tf = %s, %v, want extras/%s and the sums", out, err, name)
	}
	r = must(t, s.site, "verify", bundle)
	if !strings.Contains(r.stdout, "extra "+name) {
		t.Errorf("verify = %s, want the extra listed", r)
	}
	must(t, s.site, "load", bundle)
	got := filepath.Join(stick, name)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, exe) {
		t.Fatalf("%s after load is not the release's binary: %v", got, err)
	}
	if fi, _ := os.Stat(got); fi.Mode().Perm() != 0o755 {
		t.Errorf("%s mode %v, want 0755", got, fi.Mode().Perm())
	}
	check := exec.Command("sha256sum", "-c", "--ignore-missing", release.SumsFile)
	check.Dir = stick
	if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), name+": OK") {
		t.Errorf("sha256sum -c at the site: %v\n%s", err, out)
	}
	key, _ := os.ReadFile(pub)
	allowed := filepath.Join(s.dir, "allowed_signers")
	os.WriteFile(allowed, append([]byte("release@ferry "), key...), 0o644)
	sig := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "release@ferry", "-n", release.Namespace, "-s", filepath.Join(stick, release.SigFile))
	sig.Stdin, _ = os.Open(filepath.Join(stick, release.SumsFile))
	if out, err := sig.CombinedOutput(); err != nil {
		t.Errorf("ssh-keygen -Y verify at the site: %v\n%s", err, out)
	}
	run := exec.Command(got, "version")
	run.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1")
	if out, err := run.CombinedOutput(); err != nil || !strings.Contains(string(out), "formats:") {
		t.Errorf("the delivered ferry does not run: %v\n%s", err, out)
	}
	if names := lsNames(t, s.site); len(names) != 1 {
		t.Errorf("site store after load = %v, want the one image", names)
	}
}

// TestSave_WithFerryRefusesBadRelease: a binary that does not match
// SHA256SUMS, a signature by another key, or a platform the release lacks
// fail the save before any bundle is written.
func TestSave_WithFerryRefusesBadRelease(t *testing.T) {
	dir, platform, pub := fakeRelease(t, randomExe())
	_, _, otherPub := fakeRelease(t, randomExe())
	name, _ := release.BinaryName(platform)
	s := newSites(t)
	out := filepath.Join(s.dir, "x.ferry")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--with-ferry", platform, "--release-key", otherPub}, "not by the release key"},
		{[]string{"--with-ferry", "linux/s390x"}, "ferry-linux-s390x not found in SHA256SUMS"},
		{[]string{"--with-ferry", "linux"}, "want OS/ARCH"},
	} {
		r := run(t, s.hq, append([]string{"save", "--ferry-release", dir, "-o", out}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("save %v = %s, want exit 1 saying %q", tc.args, r, tc.want)
		}
	}
	f, _ := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("tampered"))
	f.Close()
	r := run(t, s.hq, "save", "--ferry-release", dir, "--release-key", pub, "--with-ferry", platform, "-o", out)
	if r.code != 1 || !strings.Contains(r.stderr, "digest mismatch") {
		t.Errorf("save with a tampered binary = %s, want exit 1, digest mismatch", r)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused save wrote %s", out)
	}
}

// TestLoad_DamagedExtra: a damaged extra costs that file only: it is not
// written, load names it and exits 1, and the images load.
func TestLoad_DamagedExtra(t *testing.T) {
	dir, platform, _ := fakeRelease(t, randomExe())
	name, _ := release.BinaryName(platform)
	src, _ := chain(t, 1, 1024)
	s := newSites(t)
	bundle := filepath.Join(s.dir, "trip.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "--with-ferry", platform, "--ferry-release", dir, "--compression", "none", "-o", bundle)
	raw, _ := os.ReadFile(bundle)
	exe, _ := os.ReadFile(filepath.Join(dir, name))
	at := bytes.Index(raw, exe[:4096])
	if at < 0 {
		t.Fatal("the binary is not in the uncompressed bundle")
	}
	raw[at+len(exe)/2] ^= 0xff
	os.WriteFile(bundle, raw, 0o644)
	r := run(t, s.site, "load", bundle)
	if r.code != 1 || !strings.Contains(r.stdout, "extras/"+name) {
		t.Errorf("load of a damaged extra = %s, want exit 1 naming it", r)
	}
	if _, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
		t.Errorf("a damaged extra was written")
	}
	if _, err := os.Stat(filepath.Join(s.dir, release.SumsFile)); err != nil {
		t.Errorf("the intact extras were not written: %v", err)
	}
	if names := lsNames(t, s.site); len(names) != 1 {
		t.Errorf("site store after load = %v, want the image loaded", names)
	}
}

// randomExe stands for a binary where none has to run: 1 MiB that
// occurs nowhere else.
func randomExe() []byte {
	b := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{15}).Read(b)
	return b
}
