// Package runtime names the places images live and the two small roles a
// place can play: a Source that resolves a reference into images and opens
// their blobs, and a Target that writes images given a blob source. One
// package below this one implements them per transport (ocilayout,
// ociarchive, dockerarchive, and later registry, docker, containerd,
// podman). Transport names follow skopeo: see Parse.
package runtime

import (
	"context"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is one named root of a manifest graph: an image manifest or an
// image index.
type Image struct {
	// Name is the reference the image is known by, such as
	// "example.com/app:1.0" or "app:1.0"; "" when the source gave none.
	Name string
	// Desc is the descriptor of the root manifest or index.
	Desc ocispec.Descriptor
	// Graph, when set, is the image's graph as a walk left it (Walk):
	// every step and target that needs the graph takes it from here
	// (GraphOf) instead of reading the manifests again. Sources leave it
	// unset.
	Graph *Graph
}

// String names the image in messages: its name, or its root's digest
// when it has none.
func (img Image) String() string {
	if img.Name != "" {
		return img.Name
	}
	return string(img.Desc.Digest)
}

// List names images in messages: each one's String, joined by ", ".
func List(images []Image) string {
	names := make([]string, len(images))
	for i, img := range images {
		names[i] = img.String()
	}
	return strings.Join(names, ", ")
}

// Fetcher opens blobs by descriptor. The returned reader yields exactly the
// blob's bytes; callers verify them (spec.NewVerifyingReader) before trust.
// Fetch returns an error wrapping spec.ErrNotFound for an absent blob.
type Fetcher interface {
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Resolver turns the reference a Source was opened with into images.
type Resolver interface {
	Resolve(ctx context.Context) ([]Image, error)
}

// Source is a place images are read from. Lifecycle: open with the
// transport package's constructor, Resolve, Fetch any number of blobs
// (concurrently safe), Close.
type Source interface {
	Resolver
	Fetcher
	io.Closer
}

// Target is a place images are written to. Write is called once with every
// image to write; it fetches each blob it needs from src, verifies it
// against its descriptor, and leaves nothing half-written on failure (an
// archive is written to a temporary file and renamed; a layout gets each
// blob atomically and its index.json last). Close releases resources.
type Target interface {
	Write(ctx context.Context, images []Image, src Fetcher) error
	io.Closer
}

// BlobFiler is the optional ability of a Fetcher whose blobs are files on
// local disk, already verified and read-only (ferry's store), to name a
// blob's file, so that a target on the same filesystem can hard-link it
// instead of copying its bytes. A target that cannot link copies.
type BlobFiler interface {
	BlobFile(d digest.Digest) (string, error)
}

// Distant is the optional ability of a Fetcher whose blobs come over a
// network (a registry): each takes a while to start, and several stream
// at once faster than one. A caller that needs blobs one after another
// (a bundle's writer) fetches up to FetchAhead of the next ones ahead,
// concurrently, while it consumes the current one.
type Distant interface {
	FetchAhead() int
}

// Spool keeps the blobs of a source that reads its images in one stream
// (Docker's export, which it cannot seek) until they are written
// elsewhere. Keep reads r to its end and keeps its bytes, returning
// their digest and size; Open returns a kept blob's bytes (of the given
// digest, as Keep said: a Spool holds what its own process wrote). A
// caller that will write the blobs in a form of its own (a bundle's
// compressed frames) gives the source a Spool that keeps them in that
// form, so that they are compressed while they arrive. The source does
// not close a Spool it was given.
type Spool interface {
	Keep(r io.Reader) (digest.Digest, int64, error)
	Open(d digest.Digest) (io.ReadCloser, error)
	Close() error
}

// BlobSender is the optional ability of a Target to take the blobs of
// images ahead of Write: SendBlobs sends the blobs (not the manifests)
// that images need and the target lacks, fetched from src, naming
// nothing, so that a caller who obtains blobs over time (a bundle being
// loaded) has each sent as soon as it holds it; src may make a fetch
// wait for its blob. A later Write of those images finds them sent. Its
// error only means those blobs were not all sent: Write sends what is
// missing and reports its own faults.
type BlobSender interface {
	SendBlobs(ctx context.Context, images []Image, src Fetcher) error
}

// BlobChecker is the optional ability of a Target to say which blobs it
// already holds, so that callers send only the missing ones.
type BlobChecker interface {
	Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error)
}

// WriteStats tells what a Target's last Write sent, for the targets that
// leave out the layers their destination already holds (Docker, podman).
type WriteStats struct {
	// Omitted are the layers left out because the destination had them.
	Omitted []ocispec.Descriptor
	// Bytes is the size of the archives handed to the destination.
	Bytes int64
	// Retried says the destination refused the archive without those
	// layers and Write sent everything again.
	Retried bool
}
