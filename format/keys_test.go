package format

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

func TestGenerateKey(t *testing.T) {
	priv, pub, err := GenerateKey("hq@ferry")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pub, []byte("ssh-ed25519 AAAA")) || !bytes.HasSuffix(pub, []byte(" hq@ferry\n")) {
		t.Errorf("public key = %q", pub)
	}
	if !bytes.HasPrefix(priv, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n")) {
		t.Errorf("private key starts %q", priv[:40])
	}
	path := filepath.Join(t.TempDir(), "key")
	write(t, path, priv)
	s, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(k) != Fingerprint(s.PublicKey()) || !strings.HasPrefix(Fingerprint(k), "SHA256:") {
		t.Errorf("Fingerprint = %s and %s, want the same SHA256:…", Fingerprint(k), Fingerprint(s.PublicKey()))
	}
}

func TestParsePublicKey(t *testing.T) {
	_, s := testKey(t, 1)
	line := AuthorizedKey(s.PublicKey(), "hq")
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"good", string(line), ""},
		{"no comment", string(AuthorizedKey(s.PublicKey(), "")), ""},
		{"garbage", "hello", "public key: ssh: no key found"},
		{"empty", "", "public key"},
		{"two keys", string(line) + string(line), "more than one key"},
		{"options", `command="rm -rf /" ` + string(line), "options"},
		{"truncated base64", string(line[:40]), "public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePublicKey([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil || Fingerprint(k) != Fingerprint(s.PublicKey()) {
					t.Errorf("ParsePublicKey = %v, %v", k, err)
				}
				return
			}
			if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePublicKey = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadSigner_Errors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "junk"), []byte("not a key"))
	if _, err := LoadSigner(filepath.Join(dir, "junk")); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("LoadSigner(junk) = %v, want an error naming the file", err)
	}
	if _, err := LoadSigner(filepath.Join(dir, "absent")); err == nil {
		t.Errorf("LoadSigner(absent) = nil error")
	}
}
