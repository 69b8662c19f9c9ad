package format

import (
	"archive/tar"
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// WriteReceipt completes rc and writes it signed by s: a zstd-compressed
// tar of two entries, spec.ReceiptEntry (rc's canonical JSON) and
// spec.ReceiptSignatureEntry (its SSHSIG signature, namespace
// spec.ReceiptNamespace). It sets SchemaVersion and MediaType when zero,
// Created to the current time when empty, Fingerprint from s, and sorts
// Blobs by digest and Loaded by sender, in place; then it validates rc and
// writes nothing if rc is not valid. The same rc and ed25519 key give the
// same bytes: every tar header has Created as its mtime.
func WriteReceipt(w io.Writer, rc *Receipt, s ssh.Signer) error {
	raw, err := completeReceipt(rc, s)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	sig, err := Sign(s, spec.ReceiptNamespace, raw)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	mtime, err := time.Parse(time.RFC3339, rc.Created)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	// zstd's fastest level: on receipts (hex digests) it compresses as
	// well as the default level, three times as fast.
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(encoderWindow))
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{{spec.ReceiptEntry, raw}, {spec.ReceiptSignatureEntry, sig}} {
		err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644, ModTime: mtime})
		if err == nil {
			_, err = tw.Write(e.data)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("receipt: write: %w", err)
	}
	return nil
}

// completeReceipt fills rc's defaults and returns its canonical bytes.
func completeReceipt(rc *Receipt, s ssh.Signer) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("no signer: %w", spec.ErrBadInput)
	}
	if rc.SchemaVersion == 0 {
		rc.SchemaVersion = spec.ReceiptSchemaVersion
	}
	if rc.MediaType == "" {
		rc.MediaType = spec.ReceiptMediaType
	}
	if rc.Created == "" {
		rc.Created = time.Now().UTC().Format(time.RFC3339)
	}
	rc.Fingerprint = Fingerprint(s.PublicKey())
	rc.Blobs = nonNil(rc.Blobs)
	slices.SortFunc(rc.Blobs, func(a, b ReceiptBlob) int { return cmp.Compare(a.Digest, b.Digest) })
	rc.Loaded = nonNil(rc.Loaded)
	slices.SortFunc(rc.Loaded, func(a, b LoadedBundle) int { return cmp.Compare(a.From, b.From) })
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	raw, err := encodeReceipt(rc)
	if err != nil {
		return nil, err
	}
	if len(raw) > spec.MaxReceiptSize {
		return nil, fmt.Errorf("%d bytes of JSON for %d blobs, at most %d: %w", len(raw), len(rc.Blobs), spec.MaxReceiptSize, spec.ErrTooLarge)
	}
	return raw, nil
}

// ReadReceipt reads a receipt from r, zstd-compressed or plain tar
// (sniffed), and checks it: exactly the two entries of WriteReceipt in that
// order, the signature over the exact receipt bytes in namespace
// spec.ReceiptNamespace, the receipt itself (ParseReceipt), that it names
// the key that signed it, and trust, which must return an error (wrapping
// spec.ErrUnknownSite) unless key is the one registered for rc.Site. Every
// error starts "receipt: ", names the fault and wraps spec.ErrCorrupt,
// ErrTooLarge, ErrUnsigned, ErrBadSignature or ErrUnsupportedVersion (or
// what trust or r returned). Memory is bounded by spec.MaxReceiptSize.
func ReadReceipt(r io.Reader, trust func(rc *Receipt, key ssh.PublicKey) error) (*Receipt, error) {
	if trust == nil {
		return nil, fmt.Errorf("receipt: trust is required: %w", spec.ErrBadInput)
	}
	raw, sig, err := readReceiptEntries(r)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	key, err := VerifySignature(sig, spec.ReceiptNamespace, raw)
	if err != nil {
		return nil, fmt.Errorf("receipt: signature: %w", err)
	}
	rc, err := ParseReceipt(raw)
	if err != nil {
		return nil, err
	}
	if err := checkSigner(key, rc.Fingerprint, "receipt"); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if err := trust(rc, key); err != nil {
		return nil, fmt.Errorf("receipt: site %s: %w", rc.Site, err)
	}
	return rc, nil
}

// receiptBudget is the most decoded bytes a receipt's tar stream may hold:
// its two entries, their headers (PAX records included) and the trailer.
// Past it reading stops, however well the stream compresses.
const receiptBudget = spec.MaxReceiptSize + spec.MaxSignatureSize + 1<<20

// readReceiptEntries reads the two entries of a receipt, and checks
// that nothing follows them.
func readReceiptEntries(r io.Reader) (raw, sig []byte, err error) {
	env, err := openEnvelope("", r, receiptBudget, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, nil, err
	}
	defer env.closeDecoder()
	if raw, err = env.entry(spec.ReceiptEntry, spec.MaxReceiptSize, spec.ErrCorrupt); err != nil {
		return nil, nil, err
	}
	if sig, err = env.entry(spec.ReceiptSignatureEntry, spec.MaxSignatureSize, spec.ErrUnsigned); err != nil {
		return nil, nil, fmt.Errorf("signature: %w", err)
	}
	h, err := env.next()
	if err == io.EOF {
		return raw, sig, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("entry %q after %s: a receipt holds only %s and its signature: %w",
		clip(h.Name), spec.ReceiptSignatureEntry, spec.ReceiptEntry, spec.ErrCorrupt)
}
