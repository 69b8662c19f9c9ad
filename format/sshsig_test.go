package format

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// needSSHKeygen skips without ssh-keygen, except under CI=true.
func needSSHKeygen(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ssh-keygen not found (needed under CI=true): %v", err)
		}
		t.Skipf("ssh-keygen not found: %v", err)
	}
}

func run(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

func TestSign_SSHKeygenVerifies(t *testing.T) {
	needSSHKeygen(t)
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skipf("tar not found: %v", err)
	}
	_, s := testKey(t, 1)
	dir := t.TempDir()
	data := newFixture(7, 100, 200).write(t, s, WriterOptions{ModTime: testTime})
	write(t, filepath.Join(dir, "trip-12.ferry"), data)
	write(t, filepath.Join(dir, "hq.pub"), AuthorizedKey(s.PublicKey(), "hq@ferry"))
	// The commands of spec/bundle-v1.md, section 4.1, as written there.
	out := run(t, dir, `
tar --zstd -xOf trip-12.ferry ferry-index.json > index.json
tar --zstd -xOf trip-12.ferry ferry-index.json.sig > index.json.sig
echo "hq $(cat hq.pub)" > allowed_signers
ssh-keygen -Y verify -f allowed_signers -I hq -n ferry-bundle -s index.json.sig < index.json
mkdir out && tar --zstd -xf trip-12.ferry -C out
cd out/blobs/sha256 && for f in *; do echo "$f  $f"; done | sha256sum -c --quiet
cd ../../.. && tar --zstd -tvf trip-12.ferry`)
	if !strings.Contains(out, `Good "ferry-bundle" signature for hq`) || !strings.Contains(out, "ferry-index.json.sig") {
		t.Errorf("ssh-keygen and tar said:\n%s", out)
	}
}

func TestVerifySignature_SSHKeygenSigns(t *testing.T) {
	needSSHKeygen(t)
	priv, s := testKey(t, 2)
	dir := t.TempDir()
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "key"), pem.EncodeToMemory(block))
	msg := []byte("the message\n")
	write(t, filepath.Join(dir, "msg"), msg)
	run(t, dir, "ssh-keygen -q -Y sign -f key -n ferry-bundle msg")
	sig, err := os.ReadFile(filepath.Join(dir, "msg.sig"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := VerifySignature(sig, spec.SignatureNamespace, msg)
	if err != nil {
		t.Fatalf("VerifySignature(ssh-keygen's) = %v", err)
	}
	if Fingerprint(k) != Fingerprint(s.PublicKey()) {
		t.Errorf("key = %s, want %s", Fingerprint(k), Fingerprint(s.PublicKey()))
	}
	ours, err := Sign(s, spec.SignatureNamespace, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, sig) {
		t.Errorf("Sign =\n%s\nssh-keygen -Y sign =\n%s", ours, sig)
	}
}

func TestVerifySignature_Refuses(t *testing.T) {
	_, s := testKey(t, 1)
	msg := []byte("index bytes")
	good, err := Sign(s, spec.SignatureNamespace, msg)
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := Sign(s, spec.ReceiptNamespace, msg)
	blob, _ := unarmor(good)
	tests := []struct {
		name    string
		sig     []byte
		msg     []byte
		wantErr string
	}{
		{"modified message", good, []byte("index bytez"), "does not match"},
		{"wrong namespace", receipt, msg, `namespace "ferry-receipt", want "ferry-bundle"`},
		{"no armor", []byte("hello"), msg, "not an armored SSH signature"},
		{"bad base64", []byte(sigBegin + "\n!!!!\n" + sigEnd + "\n"), msg, "armor"},
		{"no magic", armor([]byte("SSHSIX")), msg, "no SSHSIG magic"},
		{"truncated", armor(append([]byte(sigMagic), blob[:40]...)), msg, "sshsig"},
		{"trailing junk", armor(append(append([]byte(sigMagic), blob...), 0)), msg, "sshsig"},
		{"other hash", armor(append([]byte(sigMagic), bytes.Replace(blob, []byte("sha512"), []byte("md5sum"), 1)...)), msg, `hash algorithm "md5sum" unknown`},
		{"sha256 swapped in", armor(append([]byte(sigMagic), bytes.Replace(blob, []byte("\x00\x00\x00\x06sha512"), []byte("\x00\x00\x00\x06sha256"), 1)...)), msg, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifySignature(tt.sig, spec.SignatureNamespace, tt.msg)
			if !errors.Is(err, spec.ErrBadSignature) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("VerifySignature = %v, want ErrBadSignature with %q", err, tt.wantErr)
			}
		})
	}
}

func TestSign_Armor(t *testing.T) {
	_, s := testKey(t, 1)
	sig, err := Sign(s, spec.SignatureNamespace, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(sig), "\n"), "\n")
	if lines[0] != sigBegin || lines[len(lines)-1] != sigEnd {
		t.Errorf("armor lines %q … %q", lines[0], lines[len(lines)-1])
	}
	for _, l := range lines[1 : len(lines)-2] {
		if len(l) != 70 {
			t.Errorf("line %q: %d columns, want 70", l, len(l))
		}
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
