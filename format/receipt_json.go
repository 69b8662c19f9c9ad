package format

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ferryhq/ferry/spec"
)

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
		if verr := checkSchemaVersion(data, spec.ReceiptSchemaVersion); verr != nil {
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
