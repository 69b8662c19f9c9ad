package format

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Index is the first entry of a bundle: what it carries, what it expects
// the destination to hold, who made it and for whom. It is encoded as
// canonical JSON (see Canonical) and signed.
type Index struct {
	SchemaVersion int    `json:"schemaVersion"` // spec.BundleSchemaVersion
	MediaType     string `json:"mediaType"`     // spec.IndexMediaType
	// ID is the bundle id. Writer.WriteHeader sets an empty one to the
	// first 32 hex digits of the sha256 of the canonical index with an
	// empty id, so that the same bundle always gets the same id.
	ID       string  `json:"id"`
	Created  string  `json:"created"` // RFC 3339, UTC, whole seconds
	From     Party   `json:"from"`
	To       string  `json:"to,omitempty"` // destination site; "" for any
	Sequence uint64  `json:"sequence"`     // the sender's trip number
	Images   []Image `json:"images"`
	Charts   []Chart `json:"charts,omitempty"` // Helm charts, as OCI artifacts
	Files    []File  `json:"files"`            // oci-layout and index.json
	Blobs    []Blob  `json:"blobs"`
	// Volume and Volumes are set in each volume of a split bundle (a
	// set, volume.go): this volume's number, from 1, and what every
	// volume of the set carries. Zero for a bundle in one file.
	Volume  int      `json:"volume,omitempty"`
	Volumes []Volume `json:"volumes,omitempty"`

	// Refused lists the image and chart entries ParseIndex took out of
	// Images and Charts for a name ferry refuses, in index order (a chart
	// as its Root); never encoded.
	Refused []RefusedImage `json:"-"`
}

// RefusedImage is an image entry of a signed index that a reader refuses,
// and why: the rest of the bundle loads, this image does not.
type RefusedImage struct {
	Image
	Err error
}

// Party names a site and the fingerprint of its key, as
// ssh.FingerprintSHA256 writes it ("SHA256:…").
type Party struct {
	Site        string `json:"site"`
	Fingerprint string `json:"fingerprint"`
}

// Image is a reference the bundle carries and the manifest or image index
// it points to.
type Image struct {
	Name      string        `json:"name"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Platforms []string      `json:"platforms,omitempty"`
}

// Chart is a Helm chart the bundle carries, as the OCI artifact `helm
// push` makes (spec.HelmConfigMediaType), and the images it needs.
type Chart struct {
	Name    string `json:"name"`    // of its Chart.yaml
	Version string `json:"version"` // of its Chart.yaml
	// Digest and Size are those of the artifact's OCI manifest, one of
	// the blobs.
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	// Images are the normalised references of the images it needs,
	// sorted; each is among the bundle's images unless the sender chose
	// to leave it out.
	Images []string `json:"images,omitempty"`
}

// Ref is the name the chart travels under in stores, layouts and
// registries: charts/<name>:<tag> (spec.ChartRef).
func (c Chart) Ref() string { return spec.ChartRef(c.Name, c.Version) }

// Root is the chart as the root of its manifest graph: an image named
// Ref whose manifest is the artifact's.
func (c Chart) Root() Image {
	return Image{Name: c.Ref(), Digest: c.Digest, MediaType: ocispec.MediaTypeImageManifest, Size: c.Size}
}

// Roots returns every root of the bundle's manifest graphs: its images,
// then its charts (as Root). Checking, recording and writing to targets
// treat them alike.
func (ix *Index) Roots() []Image {
	out := slices.Clone(ix.Images)
	for _, c := range ix.Charts {
		out = append(out, c.Root())
	}
	return out
}

// File is one of the OCI layout files, spec.LayoutEntry or
// spec.LayoutIndexEntry.
type File struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// Blob is a blob the bundle ships or expects the destination to hold.
type Blob struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	// Kind is spec.KindBlob, or another kind of kinds.go (spec.KindExtra).
	// A reader refuses the entry of a kind it does not know (and names the
	// kind), never the bundle.
	Kind string `json:"kind"`
	// Status is spec.StatusShipped or spec.StatusPrerequisite.
	Status string `json:"status"`
	// Bundle and Sequence name, for a prerequisite, the bundle that
	// carried it (or "receipt" when a receipt said the site holds it).
	Bundle   string `json:"bundle,omitempty"`
	Sequence uint64 `json:"sequence,omitempty"`
	// Base names, for a prerequisite omitted because of --since or
	// --exclude, the image whose layer it is.
	Base string `json:"base,omitempty"`
	// Extra is the field of kind spec.KindExtra: the file's name.
	Extra *spec.Extra `json:"extra,omitempty"`
	// Delta is the field of kind spec.KindDelta: how the blob is rebuilt
	// from its bases (spec/delta-v1.md); the entry holds the delta.
	Delta *spec.Delta `json:"delta,omitempty"`
	// Chunk is the field of kind spec.KindChunk: the parts that carry
	// the blob across the volumes of a set.
	Chunk *spec.Chunk `json:"chunk,omitempty"`
	// Unknown is the field named after a kind this build does not know,
	// as the index holds it (see UnmarshalJSON).
	Unknown json.RawMessage `json:"-"`
}

// Shipped returns the blobs that are entries of the bundle, in index order.
func (ix *Index) Shipped() []Blob {
	var out []Blob
	for _, b := range ix.Blobs {
		if b.Status == spec.StatusShipped {
			out = append(out, b)
		}
	}
	return out
}

// Order sorts blobs into the canonical entry order: by size ascending, then
// by digest, so that manifests and configs come before the layers they
// name and a reader can plan before the large bytes arrive.
func Order(blobs []Blob) {
	slices.SortStableFunc(blobs, func(a, b Blob) int {
		if c := cmp.Compare(a.Size, b.Size); c != 0 {
			return c
		}
		return cmp.Compare(a.Digest, b.Digest)
	})
}

// Validate checks what a reader relies on: the version, every digest and
// size, that no blob is listed twice, that every image's digest is a
// listed blob, and that the files are the OCI layout files. Errors name the
// field and wrap spec.ErrCorrupt (spec.ErrUnsupportedVersion for the
// version). Blobs of an unknown kind are valid: the reader refuses their
// entries only.
func (ix *Index) Validate() error {
	if ix.SchemaVersion != spec.BundleSchemaVersion {
		return fmt.Errorf("schemaVersion %d: %w (this ferry reads %d)",
			ix.SchemaVersion, spec.ErrUnsupportedVersion, spec.BundleSchemaVersion)
	}
	if ix.MediaType != spec.IndexMediaType {
		return fieldErrorf("mediaType", "%q, want %q", ix.MediaType, spec.IndexMediaType)
	}
	if ix.ID == "" {
		return fieldErrorf("id", "empty")
	}
	if err := spec.ValidateBundleID(ix.ID); err != nil {
		return &fieldError{field: "id", err: err}
	}
	if err := validateCreated(ix.Created); err != nil {
		return err
	}
	if ix.Sequence == 0 {
		return fieldErrorf("sequence", "0: a sender numbers its bundles from 1")
	}
	if ix.From.Site == "" {
		return fieldErrorf("from.site", "empty")
	}
	if err := spec.ValidateSiteName(ix.From.Site); err != nil {
		return &fieldError{field: "from.site", err: err}
	}
	if ix.To != "" {
		if err := spec.ValidateSiteName(ix.To); err != nil {
			return &fieldError{field: "to", err: err}
		}
	}
	if err := validateFingerprint("from.fingerprint", ix.From.Fingerprint); err != nil {
		return err
	}
	if err := validateBlobs(ix.Blobs); err != nil {
		return err
	}
	if err := validateImages(ix.Images, ix.Blobs); err != nil {
		return err
	}
	if err := validateCharts(ix.Charts, ix.Blobs); err != nil {
		return err
	}
	if err := validateFiles(ix.Files); err != nil {
		return err
	}
	return ix.validateVolumes()
}

func validateCreated(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Format(time.RFC3339) != s {
		return fieldErrorf("created", "%q is not RFC 3339 UTC in whole seconds", s)
	}
	return nil
}

func validateBlobs(blobs []Blob) error {
	if len(blobs) > spec.MaxEntries {
		return fieldErrorf("blobs", "%d blobs, at most %d: %w", len(blobs), spec.MaxEntries, spec.ErrTooLarge)
	}
	seen := make(map[digest.Digest]bool, len(blobs))
	names := map[string]bool{}
	for i, b := range blobs {
		field := fmt.Sprintf("blobs[%d]", i)
		if err := validateDescriptor(field, b.Digest, b.Size); err != nil {
			return err
		}
		if seen[b.Digest] {
			return fieldErrorf(field, "%s listed twice", b.Digest)
		}
		seen[b.Digest] = true
		if b.Status != spec.StatusShipped && b.Status != spec.StatusPrerequisite {
			return fieldErrorf(field+".status", "%q unknown", b.Status)
		}
		if err := checkKind(&b, names); err != nil {
			return &fieldError{field: field, err: err}
		}
		if b.Bundle != "" {
			if err := spec.ValidateBundleID(b.Bundle); err != nil {
				return &fieldError{field: field + ".bundle", err: err}
			}
		}
	}
	return relatedKinds(blobs)
}

func validateImages(images []Image, blobs []Blob) error {
	if len(images) > spec.MaxEntries {
		return fieldErrorf("images", "%d images, at most %d: %w", len(images), spec.MaxEntries, spec.ErrTooLarge)
	}
	listed := make(map[digest.Digest]bool, len(blobs))
	for _, b := range blobs {
		listed[b.Digest] = true
	}
	for i, im := range images {
		field := fmt.Sprintf("images[%d]", i)
		if err := validateDescriptor(field, im.Digest, im.Size); err != nil {
			return err
		}
		if !listed[im.Digest] {
			return fieldErrorf(field+".digest", "%s (%s) is not among the blobs", im.Digest, spec.Quote(im.Name))
		}
		if err := spec.ValidateImageName(im.Name); err != nil {
			return &fieldError{field: field + ".name", err: err}
		}
	}
	return nil
}

// validateCharts checks what a reader relies on of each chart: its
// manifest is a listed blob, an OCI manifest. Names are checked by
// refuseImages, which costs the chart alone.
func validateCharts(charts []Chart, blobs []Blob) error {
	if len(charts) > spec.MaxEntries {
		return fieldErrorf("charts", "%d charts, at most %d: %w", len(charts), spec.MaxEntries, spec.ErrTooLarge)
	}
	listed := make(map[digest.Digest]string, len(blobs))
	for _, b := range blobs {
		listed[b.Digest] = b.MediaType
	}
	for i, c := range charts {
		field := fmt.Sprintf("charts[%d]", i)
		if err := validateDescriptor(field, c.Digest, c.Size); err != nil {
			return err
		}
		mt, ok := listed[c.Digest]
		if !ok {
			return fieldErrorf(field+".digest", "%s (chart %s) is not among the blobs", c.Digest, spec.Quote(c.Name))
		}
		if mt != ocispec.MediaTypeImageManifest {
			return fieldErrorf(field+".digest", "%s (chart %s) is a %s, not an OCI manifest", c.Digest, spec.Quote(c.Name), spec.Quote(mt))
		}
		if len(c.Images) > spec.MaxEntries {
			return fieldErrorf(field+".images", "%d images, at most %d: %w", len(c.Images), spec.MaxEntries, spec.ErrTooLarge)
		}
	}
	return nil
}

func validateFiles(files []File) error {
	seen := map[string]bool{}
	for i, f := range files {
		field := fmt.Sprintf("files[%d]", i)
		if f.Name != spec.LayoutEntry && f.Name != spec.LayoutIndexEntry {
			return fieldErrorf(field+".name", "%q is not %s or %s", f.Name, spec.LayoutEntry, spec.LayoutIndexEntry)
		}
		if seen[f.Name] {
			return fieldErrorf(field+".name", "%s listed twice", f.Name)
		}
		seen[f.Name] = true
		if err := validateDescriptor(field, f.Digest, f.Size); err != nil {
			return err
		}
	}
	return nil
}

func validateDescriptor(field string, d digest.Digest, size int64) error {
	if err := spec.ValidateDigest(d); err != nil {
		return &fieldError{field: field + ".digest", err: err}
	}
	if size < 0 {
		return fieldErrorf(field+".size", "%d is negative", size)
	}
	return nil
}

// fieldError is a fault in one field of an index; it wraps spec.ErrCorrupt
// and the cause.
type fieldError struct {
	field string
	err   error
}

func fieldErrorf(field, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

func (e *fieldError) Error() string   { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() []error { return []error{spec.ErrCorrupt, e.err} }

// refuseImages moves each image entry whose name ferry refuses from
// Images to Refused, and each chart whose name, version or images ferry
// refuses from Charts.
func (ix *Index) refuseImages() {
	ix.refuseCharts()
	kept := ix.Images[:0:0]
	for _, im := range ix.Images {
		if err := spec.ValidateImageName(im.Name); err != nil {
			ix.Refused = append(ix.Refused, RefusedImage{Image: im, Err: err})
			continue
		}
		kept = append(kept, im)
	}
	if len(ix.Refused) > 0 {
		ix.Images = kept
	}
}

func (ix *Index) refuseCharts() {
	kept := ix.Charts[:0:0]
	for _, c := range ix.Charts {
		err := spec.ValidateChart(c.Name, c.Version)
		for _, im := range c.Images {
			if err == nil && im == "" {
				err = fmt.Errorf("chart %s: an empty image name: %w", c.Name, spec.ErrBadInput)
			}
			if err == nil {
				err = spec.ValidateImageName(im)
			}
		}
		if err != nil {
			ix.Refused = append(ix.Refused, RefusedImage{Image: c.Root(), Err: err})
			continue
		}
		kept = append(kept, c)
	}
	if len(kept) < len(ix.Charts) {
		ix.Charts = kept
	}
}
