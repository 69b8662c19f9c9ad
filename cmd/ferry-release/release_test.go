package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestMakeRelease: make release twice (for this machine's platform only,
// to keep the test fast) gives byte-identical files; ssh-keygen -Y verify
// accepts the signed SHA256SUMS and sha256sum -c the files; the archive
// holds the binary, README.md, LICENSE and the manual page; the binary is static and
// reports the version make stamped.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry twice")
	}
	for _, tool := range []string{"make", "ssh-keygen", "sha256sum"} {
		runtimetest.NeedTool(t, tool)
	}
	if goruntime.GOOS != "linux" {
		t.Skip("make release runs on Linux here")
	}
	platform := "linux/" + goruntime.GOARCH
	bin := "ferry-linux-" + goruntime.GOARCH
	tmp := t.TempDir()
	key := filepath.Join(tmp, "release-key")
	execute(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ferry release test", "-f", key)
	var dirs []string
	for _, name := range []string{"one", "two"} {
		dir := filepath.Join(tmp, name)
		execute(t, "../..", "make", "release", "RELEASE_DIR="+dir, "RELEASE_PLATFORMS="+platform,
			"RELEASE_KEY="+key, "VERSION=v0.0.0-test", "COMMIT=0123456789abcdef")
		dirs = append(dirs, dir)
	}
	want := []string{"SHA256SUMS", "SHA256SUMS.sig", bin, bin + ".tar.gz", "ferry.1"}
	for _, f := range want {
		a, errA := os.ReadFile(filepath.Join(dirs[0], f))
		b, errB := os.ReadFile(filepath.Join(dirs[1], f))
		if errA != nil || errB != nil {
			t.Fatalf("make release did not write %s: %v %v", f, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two release builds of the same commit", f)
		}
	}
	dir := dirs[0]
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowed := filepath.Join(tmp, "allowed_signers")
	os.WriteFile(allowed, []byte("release@ferry "+string(pub)), 0o644)
	verify := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "release@ferry", "-n", "ferry-release",
		"-s", filepath.Join(dir, "SHA256SUMS.sig"))
	verify.Stdin = bytes.NewReader(readFile(t, filepath.Join(dir, "SHA256SUMS")))
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("ssh-keygen -Y verify of SHA256SUMS: %v\n%s", err, out)
	}
	if out := string(execute(t, dir, "sha256sum", "-c", "SHA256SUMS")); !strings.Contains(out, bin+": OK") {
		t.Errorf("sha256sum -c SHA256SUMS = %s, want %s: OK", out, bin)
	}
	out := string(execute(t, "", filepath.Join(dir, bin), "--version"))
	if !strings.Contains(out, "ferry v0.0.0-test (0123456789ab)") {
		t.Errorf("%s --version = %q, want the stamped version and commit", bin, out)
	}
	checkArchive(t, filepath.Join(dir, bin+".tar.gz"), strings.TrimSuffix(bin, ".exe"), readFile(t, filepath.Join(dir, bin)))
	if out, err := exec.Command("ldd", filepath.Join(dir, bin)).CombinedOutput(); err == nil {
		t.Errorf("ldd %s: %s, want a static binary", bin, out)
	}
}

// checkArchive: the archive holds base/ferry with exe's bytes, and
// README.md, LICENSE and ferry.1.
func checkArchive(t *testing.T, path, base string, exe []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.New()
		io.Copy(sum, tr)
		got[h.Name] = hex.EncodeToString(sum.Sum(nil))
	}
	exeSum := sha256.Sum256(exe)
	if got[base+"/ferry"] != hex.EncodeToString(exeSum[:]) {
		t.Errorf("%s: %s/ferry is not the released binary (entries %v)", path, base, got)
	}
	for _, doc := range []string{"README.md", "LICENSE", "ferry.1"} {
		if _, ok := got[base+"/"+doc]; !ok {
			t.Errorf("%s lacks %s/%s (entries %v)", path, base, doc, got)
		}
	}
}

func execute(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
