package format

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// maxKeyFile caps a private key file; an OpenSSH ed25519 key is about
// 400 bytes and an RSA one a few KiB.
const maxKeyFile = 64 << 10

// GenerateKey makes a site's ed25519 key pair: the private key in OpenSSH
// PEM form (as ssh-keygen writes it, unencrypted) and the public key as an
// authorized_keys line "ssh-ed25519 AAAA… comment\n".
func GenerateKey(comment string) (private []byte, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(block), AuthorizedKey(sshPub, comment), nil
}

// AuthorizedKey formats k as an authorized_keys line with an optional
// comment, ending in a newline.
func AuthorizedKey(k ssh.PublicKey, comment string) []byte {
	line := bytes.TrimSuffix(ssh.MarshalAuthorizedKey(k), []byte("\n"))
	if comment != "" {
		line = append(append(line, ' '), comment...)
	}
	return append(line, '\n')
}

// LoadSigner reads an unencrypted OpenSSH (or PEM) private key file.
func LoadSigner(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("private key %s: over %d bytes: %w", path, maxKeyFile, spec.ErrTooLarge)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("private key %s: protected by a passphrase, which ferry does not support: %w", path, spec.ErrBadInput)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %v: %w", path, err, spec.ErrBadInput)
	}
	return s, nil
}

// ParsePublicKey reads one public key in authorized_keys form, as
// GenerateKey writes it and as a .pub file of ssh-keygen holds it. Options
// and more than one key are refused; certificates too.
func ParsePublicKey(data []byte) (ssh.PublicKey, error) {
	k, _, options, rest, err := ssh.ParseAuthorizedKey(data)
	if err != nil && bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		return nil, spec.Mark(errors.New("this is a private key, which never leaves its site: give its public key, the FILE.pub beside it"), spec.ErrBadInput)
	}
	if err != nil {
		return nil, spec.Mark(fmt.Errorf("public key: %v: want one line \"ssh-ed25519 AAAA… comment\", as a FILE.pub holds it", err), spec.ErrBadInput)
	}
	if len(options) > 0 {
		return nil, fmt.Errorf("public key: options %q refused: %w", options, spec.ErrBadInput)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("public key: more than one key: %w", spec.ErrBadInput)
	}
	if _, ok := k.(*ssh.Certificate); ok {
		return nil, spec.Mark(errors.New("public key: certificate refused, give the plain key"), spec.ErrBadInput)
	}
	return k, nil
}

// Fingerprint is k's SHA256 fingerprint as ssh-keygen -l prints it
// ("SHA256:…").
func Fingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }
