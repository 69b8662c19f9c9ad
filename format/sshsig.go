package format

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// SSHSIG as OpenSSH's PROTOCOL.sshsig defines it, so that
// "ssh-keygen -Y verify" checks a ferry signature and ferry checks one made
// by "ssh-keygen -Y sign".
const (
	sigMagic   = "SSHSIG"
	sigVersion = 1
	sigBegin   = "-----BEGIN SSH SIGNATURE-----"
	sigEnd     = "-----END SSH SIGNATURE-----"
	sigHash    = "sha512" // what ssh-keygen uses by default
	sigColumns = 70       // ssh-keygen wraps the base64 at 70 columns
)

// sigBlob is the binary signature, after the 6-byte magic.
type sigBlob struct {
	Version   uint32
	PublicKey []byte
	Namespace string
	Reserved  string
	HashAlg   string
	Signature []byte
}

// signedData is what the key actually signs, after the 6-byte magic.
type signedData struct {
	Namespace string
	Reserved  string
	HashAlg   string
	Hash      []byte
}

// Sign makes an armored SSHSIG signature of message in namespace, byte for
// byte as "ssh-keygen -Y sign -n namespace" writes it. RSA keys sign with
// rsa-sha2-512, as ssh-keygen does.
func Sign(s ssh.Signer, namespace string, message []byte) ([]byte, error) {
	if namespace == "" {
		return nil, errors.New("sign: empty namespace")
	}
	h := sha512.Sum512(message)
	data := append([]byte(sigMagic), ssh.Marshal(signedData{Namespace: namespace, HashAlg: sigHash, Hash: h[:]})...)
	sig, err := signWith(s, data)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	blob := append([]byte(sigMagic), ssh.Marshal(sigBlob{
		Version:   sigVersion,
		PublicKey: s.PublicKey().Marshal(),
		Namespace: namespace,
		HashAlg:   sigHash,
		Signature: ssh.Marshal(sig),
	})...)
	return armor(blob), nil
}

func signWith(s ssh.Signer, data []byte) (*ssh.Signature, error) {
	if as, ok := s.(ssh.AlgorithmSigner); ok && s.PublicKey().Type() == ssh.KeyAlgoRSA {
		return as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
	}
	return s.Sign(rand.Reader, data)
}

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(sigBegin + "\n")
	for len(enc) > sigColumns {
		b.WriteString(enc[:sigColumns] + "\n")
		enc = enc[sigColumns:]
	}
	b.WriteString(enc + "\n" + sigEnd + "\n")
	return b.Bytes()
}

// VerifySignature checks an armored SSHSIG signature of message in
// namespace and returns the key that made it. Whether that key is trusted
// is the caller's question. Any fault (armor, encoding, version, namespace,
// hash algorithm, signature) is spec.ErrBadSignature.
func VerifySignature(armored []byte, namespace string, message []byte) (ssh.PublicKey, error) {
	k, err := verify(armored, namespace, message)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", spec.ErrBadSignature, err)
	}
	return k, nil
}

func verify(armored []byte, namespace string, message []byte) (ssh.PublicKey, error) {
	blob, err := unarmor(armored)
	if err != nil {
		return nil, err
	}
	var sb sigBlob
	if err := ssh.Unmarshal(blob, &sb); err != nil {
		return nil, fmt.Errorf("sshsig: %v", err)
	}
	if sb.Version != sigVersion {
		return nil, fmt.Errorf("sshsig version %d unknown", sb.Version)
	}
	if sb.Namespace != namespace {
		return nil, fmt.Errorf("namespace %q, want %q", sb.Namespace, namespace)
	}
	key, err := parseSigningKey(sb.PublicKey)
	if err != nil {
		return nil, err
	}
	sig, err := parseSig(sb.Signature, key)
	if err != nil {
		return nil, err
	}
	h, err := hashMessage(sb.HashAlg, message)
	if err != nil {
		return nil, err
	}
	data := append([]byte(sigMagic), ssh.Marshal(signedData{Namespace: sb.Namespace, Reserved: sb.Reserved, HashAlg: sb.HashAlg, Hash: h})...)
	if err := key.Verify(data, sig); err != nil {
		return nil, fmt.Errorf("signature by %s does not match: %v", Fingerprint(key), err)
	}
	return key, nil
}

func unarmor(armored []byte) ([]byte, error) {
	s := bytes.TrimSpace(armored)
	body, ok := bytes.CutPrefix(s, []byte(sigBegin))
	if ok {
		body, ok = bytes.CutSuffix(body, []byte(sigEnd))
	}
	if !ok {
		return nil, errors.New("not an armored SSH signature")
	}
	body = bytes.Join(bytes.Fields(body), nil)
	blob := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	n, err := base64.StdEncoding.Decode(blob, body)
	if err != nil {
		return nil, fmt.Errorf("armor: %v", err)
	}
	blob, ok = bytes.CutPrefix(blob[:n], []byte(sigMagic))
	if !ok {
		return nil, errors.New("no SSHSIG magic")
	}
	return blob, nil
}

func parseSigningKey(b []byte) (ssh.PublicKey, error) {
	key, err := ssh.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key: %v", err)
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, errors.New("certificate keys are not supported")
	}
	return key, nil
}

func parseSig(b []byte, key ssh.PublicKey) (*ssh.Signature, error) {
	var sig ssh.Signature
	if err := ssh.Unmarshal(b, &sig); err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	if key.Type() == ssh.KeyAlgoRSA && sig.Format == ssh.KeyAlgoRSA {
		return nil, errors.New("ssh-rsa (SHA-1) signatures are refused")
	}
	return &sig, nil
}

func hashMessage(alg string, message []byte) ([]byte, error) {
	switch alg {
	case "sha512":
		h := sha512.Sum512(message)
		return h[:], nil
	case "sha256":
		h := sha256.Sum256(message)
		return h[:], nil
	}
	return nil, fmt.Errorf("hash algorithm %q unknown", alg)
}
