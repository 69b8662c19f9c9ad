package format

import (
	"archive/tar"
	"bufio"
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// Receipt is what a site states it holds: every blob of its store and, per
// sender, the last bundle it loaded from it. It is the way back from a site
// to a sender, a small signed file (WriteReceipt, ReadReceipt) that
// spec/receipt-v1.md describes. It is the site's whole inventory: the
// sender sets its record of that site to exactly these blobs.
type Receipt struct {
	SchemaVersion int    `json:"schemaVersion"` // spec.ReceiptSchemaVersion
	MediaType     string `json:"mediaType"`     // spec.ReceiptMediaType
	Site          string `json:"site"`          // the site stating what it holds
	Fingerprint   string `json:"fingerprint"`   // of its signing key, SHA256:…
	Created       string `json:"created"`       // RFC 3339 UTC, whole seconds
	// Sequence is the site's own receipt counter, from 1. A receipt not
	// newer than one the sender applied changes nothing.
	Sequence uint64         `json:"sequence"`
	Blobs    []ReceiptBlob  `json:"blobs"`  // every blob the site's store holds, sorted by digest, no duplicates
	Loaded   []LoadedBundle `json:"loaded"` // per sender, sorted by From: the last bundle loaded from it
}

// ReceiptBlob is a blob the site holds.
type ReceiptBlob struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// LoadedBundle is the last bundle a site loaded from one sender.
type LoadedBundle struct {
	From     string `json:"from"`         // the sending site
	To       string `json:"to,omitempty"` // the bundle's destination; "" for any
	Sequence uint64 `json:"sequence"`     // the bundle's sequence
	Bundle   string `json:"bundle"`       // the bundle's id
}

// receiptJSON and loadedJSON are Receipt and LoadedBundle with their fields
// in key order. encoding/json writes struct fields in declaration order, so
// their encoding is the canonical JSON of a Receipt (Canonical gives the
// same bytes) without decoding into generic maps, which would cost a
// hundred times the memory for a receipt of many blobs.
type receiptJSON struct {
	Blobs         []ReceiptBlob `json:"blobs"`
	Created       string        `json:"created"`
	Fingerprint   string        `json:"fingerprint"`
	Loaded        []loadedJSON  `json:"loaded"`
	MediaType     string        `json:"mediaType"`
	SchemaVersion int           `json:"schemaVersion"`
	Sequence      uint64        `json:"sequence"`
	Site          string        `json:"site"`
}

type loadedJSON struct {
	Bundle   string `json:"bundle"`
	From     string `json:"from"`
	Sequence uint64 `json:"sequence"`
	To       string `json:"to,omitempty"`
}

// Validate checks what a sender relies on: the version (first, as
// spec.ErrUnsupportedVersion naming it), the media type, the site's name,
// the fingerprint's form, the created time, the sequence, every blob's
// digest and size, that blobs are sorted by digest without duplicates and
// senders sorted by name without duplicates, and the counts. Other errors
// name the field and wrap spec.ErrCorrupt.
func (rc *Receipt) Validate() error {
	if rc.SchemaVersion != spec.ReceiptSchemaVersion {
		return fmt.Errorf("schemaVersion %d: %w (this ferry reads %d)",
			rc.SchemaVersion, spec.ErrUnsupportedVersion, spec.ReceiptSchemaVersion)
	}
	if rc.MediaType != spec.ReceiptMediaType {
		return fieldErrorf("mediaType", "%q, want %q", clip(rc.MediaType), spec.ReceiptMediaType)
	}
	if err := validateSite("site", rc.Site); err != nil {
		return err
	}
	if err := validateFingerprint(rc.Fingerprint); err != nil {
		return err
	}
	if len(rc.Created) != len("2006-01-02T15:04:05Z") {
		return fieldErrorf("created", "%q is not RFC 3339 UTC in whole seconds", clip(rc.Created))
	}
	if err := validateCreated(rc.Created); err != nil {
		return err
	}
	if rc.Sequence == 0 {
		return fieldErrorf("sequence", "0: a site numbers its receipts from 1")
	}
	if err := validateReceiptBlobs(rc.Blobs); err != nil {
		return err
	}
	return validateLoaded(rc.Loaded)
}

// validateSite accepts what ferry accepts as a site name: 1 to 64 of
// [A-Za-z0-9._-], not starting with a dot or dash.
func validateSite(field, name string) error {
	ok := name != "" && len(name) <= 64 && name[0] != '.' && name[0] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fieldErrorf(field, "%q is not a site name (1 to 64 letters, digits, '.', '_' or '-')", clip(name))
	}
	return nil
}

// validateFingerprint accepts "SHA256:" and the unpadded base64 of 32
// bytes, as ssh.FingerprintSHA256 and ssh-keygen -l write it.
func validateFingerprint(fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if ok {
		sum, err := base64.RawStdEncoding.Strict().DecodeString(b64)
		ok = err == nil && len(sum) == 32
	}
	if !ok {
		return fieldErrorf("fingerprint", "%q is not a SHA256 key fingerprint", clip(fp))
	}
	return nil
}

func validateReceiptBlobs(blobs []ReceiptBlob) error {
	if len(blobs) > spec.MaxReceiptBlobs {
		return fieldErrorf("blobs", "%d blobs, at most %d: %w", len(blobs), spec.MaxReceiptBlobs, spec.ErrTooLarge)
	}
	for i := range blobs {
		b := &blobs[i]
		if !isSHA256(b.Digest) {
			err := spec.ValidateDigest(b.Digest)
			if err == nil { // never: isSHA256 accepts exactly what ValidateDigest does
				err = errors.New("not sha256 and 64 lowercase hex digits")
			}
			return &fieldError{field: fmt.Sprintf("blobs[%d].digest", i), err: err}
		}
		if b.Size < 0 {
			return fieldErrorf(fmt.Sprintf("blobs[%d].size", i), "%d is negative", b.Size)
		}
		if i == 0 {
			continue
		}
		if prev := blobs[i-1].Digest; b.Digest == prev {
			return fieldErrorf(fmt.Sprintf("blobs[%d]", i), "%s listed twice", b.Digest)
		} else if b.Digest < prev {
			return fieldErrorf(fmt.Sprintf("blobs[%d]", i), "%s after %s: not sorted by digest", b.Digest, prev)
		}
	}
	return nil
}

// isSHA256 reports whether d is "sha256:" and 64 lowercase hex digits:
// what spec.ValidateDigest accepts, at a tenth of its cost (go-digest
// matches a regular expression), which counts for a million blobs.
func isSHA256(d digest.Digest) bool {
	hex, ok := strings.CutPrefix(string(d), "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func validateLoaded(loaded []LoadedBundle) error {
	if len(loaded) > spec.MaxReceiptSenders {
		return fieldErrorf("loaded", "%d senders, at most %d: %w", len(loaded), spec.MaxReceiptSenders, spec.ErrTooLarge)
	}
	for i, l := range loaded {
		field := fmt.Sprintf("loaded[%d]", i)
		if err := validateSite(field+".from", l.From); err != nil {
			return err
		}
		if l.To != "" {
			if err := validateSite(field+".to", l.To); err != nil {
				return err
			}
		}
		if l.Bundle == "" {
			return fieldErrorf(field+".bundle", "empty")
		}
		if i == 0 {
			continue
		}
		if prev := loaded[i-1].From; l.From == prev {
			return fieldErrorf(field+".from", "%s listed twice", l.From)
		} else if l.From < prev {
			return fieldErrorf(field+".from", "%s after %s: not sorted by sender", l.From, prev)
		}
	}
	return nil
}

// clip shortens an untrusted string for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// clipErr is err's message, shortened: it may quote untrusted input.
func clipErr(err error) string {
	if s := err.Error(); len(s) > 200 {
		return s[:200] + "…"
	}
	return err.Error()
}

// encodeReceipt returns rc's canonical JSON.
func encodeReceipt(rc *Receipt) ([]byte, error) {
	loaded := make([]loadedJSON, len(rc.Loaded))
	for i, l := range rc.Loaded {
		loaded[i] = loadedJSON{Bundle: l.Bundle, From: l.From, Sequence: l.Sequence, To: l.To}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(receiptJSON{
		Blobs:         nonNil(rc.Blobs),
		Created:       rc.Created,
		Fingerprint:   rc.Fingerprint,
		Loaded:        loaded,
		MediaType:     rc.MediaType,
		SchemaVersion: rc.SchemaVersion,
		Sequence:      rc.Sequence,
		Site:          rc.Site,
	})
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ParseReceipt decodes and validates a receipt entry. It is strict, as a
// parser of signed bytes should be: at most spec.MaxReceiptSize bytes, a
// schemaVersion this build reads (checked first), exactly the bytes
// WriteReceipt would write for what they say (canonical JSON, every field
// present, none unknown, no null arrays), and Validate.
func ParseReceipt(data []byte) (*Receipt, error) {
	if len(data) > spec.MaxReceiptSize {
		return nil, fmt.Errorf("receipt: %d bytes, at most %d: %w", len(data), spec.MaxReceiptSize, spec.ErrTooLarge)
	}
	var rc Receipt
	err := json.Unmarshal(data, &rc)
	if err != nil || rc.SchemaVersion != spec.ReceiptSchemaVersion {
		// The version first: a receipt of another version is refused for
		// its version, not for fields this build does not know.
		if verr := checkReceiptVersion(data); verr != nil {
			return nil, fmt.Errorf("receipt: %w", verr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: %w: %s", spec.ErrCorrupt, clipErr(err))
	}
	canon, err := encodeReceipt(&rc)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w: %v", spec.ErrCorrupt, err)
	}
	if !bytes.Equal(canon, data) {
		return nil, fmt.Errorf("receipt: %w", notCanonical(data, canon))
	}
	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return &rc, nil
}

// checkReceiptVersion reads only the schemaVersion.
func checkReceiptVersion(data []byte) error {
	var probe struct {
		SchemaVersion *json.Number `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return fmt.Errorf("%w: not a JSON object", spec.ErrCorrupt)
		}
		if errors.As(err, &te) {
			return fmt.Errorf("%w: schemaVersion: a JSON %s, not a number", spec.ErrCorrupt, te.Value)
		}
		return fmt.Errorf("%w: %s", spec.ErrCorrupt, clipErr(err))
	}
	if probe.SchemaVersion == nil {
		return fmt.Errorf("%w: no schemaVersion", spec.ErrCorrupt)
	}
	if v := probe.SchemaVersion.String(); v != fmt.Sprint(spec.ReceiptSchemaVersion) {
		return fmt.Errorf("schemaVersion %s: %w (this ferry reads %d)", clip(v), spec.ErrUnsupportedVersion, spec.ReceiptSchemaVersion)
	}
	return nil
}

// notCanonical says why data, which decodes, is not its canonical form:
// a field this version does not define, or the first byte that differs.
func notCanonical(data, canon []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rc Receipt
	if err := dec.Decode(&rc); err != nil {
		return fmt.Errorf("%w: %s", spec.ErrCorrupt, clipErr(err))
	}
	n := 0
	for n < len(data) && n < len(canon) && data[n] == canon[n] {
		n++
	}
	return fmt.Errorf("%w: not canonical JSON: differs from its canonical form at byte %d", spec.ErrCorrupt, n)
}

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
	if fp := Fingerprint(key); rc.Fingerprint != fp {
		return nil, fmt.Errorf("receipt: signature: made by key %s, but the receipt names %s: %w", fp, rc.Fingerprint, spec.ErrBadSignature)
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

// receiptTar reads the entries of a receipt.
type receiptTar struct {
	in   *source // the caller's reader, to tell its errors from ours
	dec  *source // the tar stream, decoded, limited to receiptBudget
	zstd bool
	tr   *tar.Reader
}

func readReceiptEntries(r io.Reader) (raw, sig []byte, err error) {
	rt := &receiptTar{in: &source{r: r}}
	buf := bufio.NewReaderSize(rt.in, 64<<10)
	var plain io.Reader = buf
	if magic, _ := buf.Peek(len(zstdMagic)); bytes.Equal(magic, zstdMagic) {
		zr, err := zstd.NewReader(buf,
			zstd.WithDecoderMaxMemory(spec.MaxDecoderMemory),
			zstd.WithDecoderMaxWindow(spec.MaxDecoderMemory),
			zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		defer zr.Close()
		rt.zstd, plain = true, zr
	}
	rt.dec = &source{r: plain, limit: receiptBudget}
	rt.tr = tar.NewReader(rt.dec)
	if raw, err = rt.entry(spec.ReceiptEntry, spec.MaxReceiptSize, spec.ErrCorrupt); err != nil {
		return nil, nil, err
	}
	if sig, err = rt.entry(spec.ReceiptSignatureEntry, spec.MaxSignatureSize, spec.ErrUnsigned); err != nil {
		return nil, nil, fmt.Errorf("signature: %w", err)
	}
	return raw, sig, rt.end()
}

// entry reads the next entry, which must be a regular file called name of
// at most max bytes; absent or misnamed, it is the fault missing. It never
// allocates by the header's size.
func (rt *receiptTar) entry(name string, max int64, missing error) ([]byte, error) {
	h, err := rt.next()
	if err == io.EOF {
		return nil, fmt.Errorf("no %s entry: %w", name, missing)
	}
	if err != nil {
		return nil, err
	}
	if h.Name != name {
		hint := ""
		if h.Name == spec.IndexEntry {
			hint = " (a bundle, not a receipt)"
		}
		return nil, fmt.Errorf("entry %q where %s should be%s: %w", clip(h.Name), name, hint, missing)
	}
	if err := checkType(h); err != nil {
		return nil, fmt.Errorf("entry %q: %w: %w", h.Name, err, spec.ErrCorrupt)
	}
	if h.Size > max {
		return nil, fmt.Errorf("entry %q of %d bytes, at most %d: %w", h.Name, h.Size, max, spec.ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(rt.tr, max+1))
	if err != nil {
		return nil, rt.fault(err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("entry %q over %d bytes: %w", h.Name, max, spec.ErrTooLarge)
	}
	return data, nil
}

// end checks that the signature was the last entry.
func (rt *receiptTar) end() error {
	h, err := rt.next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("entry %q after %s: a receipt holds only %s and its signature: %w",
		clip(h.Name), spec.ReceiptSignatureEntry, spec.ReceiptEntry, spec.ErrCorrupt)
}

func (rt *receiptTar) next() (*tar.Header, error) {
	h, err := rt.tr.Next()
	switch {
	case err == io.EOF && rt.dec.n == 0 && rt.in.err == nil:
		return nil, fmt.Errorf("empty stream: %w", spec.ErrCorrupt)
	case err == io.EOF && rt.dec.eof:
		return nil, &streamError{msg: "truncated: no end-of-archive marker", errs: []error{spec.ErrCorrupt, io.ErrUnexpectedEOF}}
	case err != nil && err != io.EOF:
		return nil, rt.fault(err)
	}
	return h, err
}

// fault names a fault of the stream: the input's own read error, the
// budget, a truncation, a zstd fault or a tar fault.
func (rt *receiptTar) fault(err error) error {
	switch {
	case errors.Is(rt.dec.err, errOverBudget):
		return &streamError{msg: fmt.Sprintf("the stream holds more than %d bytes; over the size limit", rt.dec.limit),
			errs: []error{spec.ErrCorrupt, spec.ErrTooLarge}}
	case rt.in.err != nil:
		return fmt.Errorf("read: %w", rt.in.err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &streamError{msg: "truncated: " + err.Error(), errs: []error{spec.ErrCorrupt, err}}
	case rt.dec.err != nil && rt.zstd:
		errs := []error{spec.ErrCorrupt, rt.dec.err}
		if errors.Is(rt.dec.err, zstd.ErrWindowSizeExceeded) || errors.Is(rt.dec.err, zstd.ErrDecoderSizeExceeded) {
			errs = append(errs, spec.ErrTooLarge)
		}
		return &streamError{msg: "zstd: " + rt.dec.err.Error(), errs: errs}
	}
	return &streamError{msg: "tar: " + err.Error(), errs: []error{spec.ErrCorrupt, err}}
}
