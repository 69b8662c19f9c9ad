package format

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// kindRule is what the format knows of one entry kind (spec/bundle-v1.md
// section 7): where a blob of the kind is an entry, what that entry's
// bytes must be, and the check of the kind's own field of the blob.
type kindRule struct {
	// entry returns the tar name of blob b's entry and the digest and
	// size of the entry's bytes, for a kind carried in one entry.
	entry func(b *Blob) (name string, d digest.Digest, size int64)
	// parts returns the entries of a kind carried in several (a chunked
	// blob's parts, each with its Volume), instead of entry.
	parts func(b *Blob) []Entry
	// check validates b's fields for the kind: the kind's field present
	// and valid, no other kind's field.
	check func(b *Blob) error
	// related, if set, checks b against the other blobs of its index
	// (by digest), once each blob passed check.
	related func(b *Blob, blobs map[digest.Digest]*Blob) error
}

// kinds declares every entry kind this ferry reads and writes, in one
// place: the Writer and the Reader know only what it says, and
// store/trip dispatches on the same names (kinds.go there). A blob of a
// kind not in this table is valid in an index; the Reader refuses its
// entry only (Unsupported), as section 7 asks.
var kinds = map[string]kindRule{
	spec.KindBlob:  {entry: blobEntry, check: func(b *Blob) error { return onlyField(b, "") }},
	spec.KindExtra: {entry: extraEntry, check: checkExtra},
	spec.KindDelta: {entry: deltaEntry, check: checkDelta, related: deltaBases},
	spec.KindChunk: {parts: chunkParts, check: checkChunk},
}

// kindFields are the fields named after a kind that a Blob holds, by
// kind: one per kind that has one.
func kindFields(b *Blob) map[string]bool {
	return map[string]bool{spec.KindExtra: b.Extra != nil, spec.KindDelta: b.Delta != nil, spec.KindChunk: b.Chunk != nil}
}

// blobEntries returns the entries that carry blob b, of a kind of the
// table: one, or its parts.
func blobEntries(b *Blob) []Entry {
	rule := kinds[b.Kind]
	if rule.parts != nil {
		return rule.parts(b)
	}
	name, d, size := rule.entry(b)
	return []Entry{{Name: name, Kind: b.Kind, Digest: d, Size: size, MediaType: b.MediaType, Blob: b}}
}

// onlyField refuses a blob that holds the field of a kind other than
// kind ("" for none).
func onlyField(b *Blob, kind string) error {
	for k, set := range kindFields(b) {
		if set && k != kind {
			return fmt.Errorf("kind %s has a %q field", spec.Quote(b.Kind), k)
		}
	}
	return nil
}

func blobEntry(b *Blob) (string, digest.Digest, int64) {
	return spec.BlobPrefix + b.Digest.Encoded(), b.Digest, b.Size
}

// extraEntry: an extra's entry holds the file's own bytes, under its name.
func extraEntry(b *Blob) (string, digest.Digest, int64) {
	name := ""
	if b.Extra != nil {
		name = b.Extra.Name
	}
	return spec.ExtraPrefix + name, b.Digest, b.Size
}

func checkExtra(b *Blob) error {
	switch {
	case b.Extra == nil:
		return fmt.Errorf("kind %s without its %q field", spec.KindExtra, spec.KindExtra)
	case b.Status != spec.StatusShipped:
		return fmt.Errorf("an extra is %s, not %s", spec.Quote(b.Status), spec.StatusShipped)
	}
	if err := b.Extra.Validate(); err != nil {
		return err
	}
	return onlyField(b, spec.KindExtra)
}

// deltaEntry: a delta's entry holds the delta's bytes (spec/delta-v1.md),
// under the name of the layer it rebuilds.
func deltaEntry(b *Blob) (string, digest.Digest, int64) {
	name := spec.DeltaPrefix + b.Digest.Encoded()
	if b.Delta == nil {
		return name, "", 0
	}
	return name, b.Delta.Digest, b.Delta.Size
}

// checkDelta: a shipped blob with a valid delta field, whose entry is
// smaller than the blob (a reader that does not know the kind counts the
// blob's size toward its budget, bundle-v1 section 7), built on other
// blobs than itself.
func checkDelta(b *Blob) error {
	switch {
	case b.Delta == nil:
		return fmt.Errorf("kind %s without its %q field", spec.KindDelta, spec.KindDelta)
	case b.Status != spec.StatusShipped:
		return fmt.Errorf("a delta is %s, not %s", spec.Quote(b.Status), spec.StatusShipped)
	}
	if err := b.Delta.Validate(); err != nil {
		return err
	}
	if b.Delta.Size > b.Size {
		return fmt.Errorf("delta of %d bytes for a blob of %d: an entry is never larger than its blob", b.Delta.Size, b.Size)
	}
	return onlyField(b, spec.KindDelta)
}

// deltaBases: every base of a delta is a prerequisite of the same index,
// so that verify checks the destination holds it before load starts.
func deltaBases(b *Blob, blobs map[digest.Digest]*Blob) error {
	for _, d := range b.Delta.Bases {
		base, ok := blobs[d]
		if !ok || base.Status != spec.StatusPrerequisite {
			return fmt.Errorf("delta base %s is not a prerequisite of the bundle", d)
		}
	}
	return nil
}

// blobFields are the JSON names of Blob's own fields: a kind may not be
// named like one.
var blobFields = map[string]bool{"digest": true, "size": true, "mediaType": true, "kind": true,
	"status": true, "bundle": true, "sequence": true, "base": true}

// plainBlob is Blob without its JSON methods.
type plainBlob Blob

// UnmarshalJSON decodes a blob strictly: Blob's fields and no other,
// except that a blob of a kind this build does not know may hold one more
// field, named after its kind, whatever it holds; it is kept as it came
// (Blob.Unknown), so the index encodes again to the same bytes.
func (b *Blob) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	var kind string
	if raw, ok := fields["kind"]; ok {
		json.Unmarshal(raw, &kind) // a bad kind fails the strict decode below
	}
	var unknown json.RawMessage
	if _, known := kinds[kind]; !known && !blobFields[kind] && fields[kind] != nil {
		unknown = fields[kind]
		delete(fields, kind)
		var err error
		if data, err = json.Marshal(fields); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plainBlob
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*b = Blob(p)
	b.Unknown = unknown
	return nil
}

// MarshalJSON encodes a blob, with the field of an unknown kind it was
// read with.
func (b Blob) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(plainBlob(b))
	if err != nil || b.Unknown == nil {
		return data, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	fields[b.Kind] = b.Unknown
	return json.Marshal(fields)
}

// checkKind checks a blob against its kind's rule, and that no two
// entries share a tar name (names holds those seen). A kind this build
// does not know passes: its entry is refused, not the index.
func checkKind(b *Blob, names map[string]bool) error {
	rule, ok := kinds[b.Kind]
	if !ok {
		return onlyField(b, "")
	}
	if err := rule.check(b); err != nil {
		return err
	}
	for _, e := range blobEntries(b) {
		if names[e.Name] {
			return fmt.Errorf("entry %s listed twice", spec.Quote(e.Name))
		}
		names[e.Name] = true
	}
	return nil
}

// relatedKinds runs each kind's check of a blob against the others.
func relatedKinds(blobs []Blob) error {
	byDigest := make(map[digest.Digest]*Blob, len(blobs))
	for i := range blobs {
		byDigest[blobs[i].Digest] = &blobs[i]
	}
	for i := range blobs {
		if rule, ok := kinds[blobs[i].Kind]; ok && rule.related != nil {
			if err := rule.related(&blobs[i], byDigest); err != nil {
				return &fieldError{field: fmt.Sprintf("blobs[%d]", i), err: err}
			}
		}
	}
	return nil
}
