// Package spec holds what every part of ferry shares and nothing else: the
// version constants, media types, entry names, limits and error sentinels of
// the formats that bundle-v1.md and catalog-v1.md describe. It imports almost
// nothing so that every other package can import it.
package spec

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Bundle format v1.
const (
	// BundleSchemaVersion is the index's schemaVersion this build writes
	// and the only one it reads.
	BundleSchemaVersion = 1
	// IndexMediaType is the index's mediaType field.
	IndexMediaType = "application/vnd.ferry.bundle.index.v1+json"
	// IndexEntry is the name of the first tar entry: the signed index.
	IndexEntry = "ferry-index.json"
	// SignatureEntry is the name of the second tar entry: the detached
	// SSHSIG signature of the index bytes, armored as ssh-keygen -Y sign
	// writes it.
	SignatureEntry = "ferry-index.json.sig"
	// SignatureNamespace is the SSHSIG namespace of a bundle's signature.
	SignatureNamespace = "ferry-bundle"
	// ReceiptNamespace is the SSHSIG namespace of a receipt's signature.
	ReceiptNamespace = "ferry-receipt"
	// LayoutEntry and LayoutIndexEntry are the OCI image layout files that
	// make an unpacked bundle a valid layout: image-spec's names.
	LayoutEntry      = ocispec.ImageLayoutFile
	LayoutIndexEntry = ocispec.ImageIndexFile
	// BlobPrefix is the directory of blob entries: BlobPrefix + "<64 hex>".
	BlobPrefix = "blobs/sha256/"
	// FileExtension is the default extension of a bundle file.
	FileExtension = ".ferry"
)

// Entry kinds in the index. A reader that meets a kind it does not know
// refuses the entry (and so the images that need it), never the bundle.
const (
	KindBlob = "blob"
	KindFile = "file"
)

// Blob status in the index.
const (
	// StatusShipped: the blob is an entry of this bundle.
	StatusShipped = "shipped"
	// StatusPrerequisite: the bundle omits the blob and expects the
	// destination to hold it already.
	StatusPrerequisite = "prerequisite"
)

// Limits on untrusted input.
const (
	// MaxIndexSize caps the bundle index entry (as distribution caps
	// manifests).
	MaxIndexSize = 4 << 20
	// MaxSignatureSize caps the signature entry.
	MaxSignatureSize = 64 << 10
	// MaxManifestSize caps any manifest, image index, config or
	// index.json that ferry parses.
	MaxManifestSize = 4 << 20
	// MaxEntries caps the number of blobs one bundle may list.
	MaxEntries = 100000
	// MaxDecoderMemory caps the zstd decoder's window and memory.
	MaxDecoderMemory = 64 << 20
)

// Media types and annotations ferry reads and writes besides those of
// image-spec (ocispec.MediaTypeImageManifest, ocispec.AnnotationRefName,
// …, which every package uses as image-spec names them): Docker's schema
// 2, and containerd's image name.
const (
	DockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	DockerConfig        = "application/vnd.docker.container.image.v1+json"
	DockerLayer         = "application/vnd.docker.image.rootfs.diff.tar"
	DockerLayerGzip     = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	DockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	AnnotationImageName = "io.containerd.image.name"
)

// IsIndex reports whether mediaType names an image index / manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == DockerManifestList
}

// IsManifest reports whether mediaType names a single-image manifest.
func IsManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == DockerManifest
}
