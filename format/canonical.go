package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/spec"
)

// Canonical encodes v as canonical JSON: object keys sorted, no
// insignificant whitespace, no HTML escaping, numbers as written, no
// trailing newline. Equal values always give equal bytes, which is what
// makes the bundle id and the signed index reproducible.
func Canonical(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return canonicalize(data)
}

// canonicalize re-encodes one JSON value in canonical form. Decoding into
// any sorts the keys (encoding/json writes maps in key order), and
// UseNumber keeps numbers as they were written.
func canonicalize(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := expectEOF(dec); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// ParseIndex decodes and validates an index. It is strict, as a parser of
// signed bytes should be: at most spec.MaxIndexSize bytes, one JSON value
// in canonical form that decodes and encodes back to itself (field names
// exactly as spelled here), a schemaVersion this build reads (checked first, so a
// newer bundle is refused as spec.ErrUnsupportedVersion naming its
// version), no field it does not know, and Validate. An image entry whose
// name spec.ValidateImageName refuses is moved to Refused: it costs that
// image, not the bundle.
func ParseIndex(data []byte) (*Index, error) {
	if len(data) > spec.MaxIndexSize {
		return nil, fmt.Errorf("%d bytes, at most %d: %w", len(data), spec.MaxIndexSize, spec.ErrTooLarge)
	}
	if err := checkSchemaVersion(data, spec.BundleSchemaVersion); err != nil {
		return nil, err
	}
	canon, err := canonicalize(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", spec.ErrCorrupt, err)
	}
	if !bytes.Equal(canon, data) {
		return nil, fmt.Errorf("%w: not canonical JSON", spec.ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ix Index
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("%w: %v", spec.ErrCorrupt, err)
	}
	// encoding/json matches field names without regard to case, so bytes
	// that are canonical JSON may still name a field "diGest": what was
	// decoded must encode back to exactly the bytes that were signed.
	if again, err := Canonical(&ix); err != nil || !bytes.Equal(again, data) {
		return nil, fmt.Errorf("%w: not canonical: a field name or value differs from what this index encodes to", spec.ErrCorrupt)
	}
	ix.refuseImages()
	if err := ix.Validate(); err != nil {
		return nil, err
	}
	return &ix, nil
}
