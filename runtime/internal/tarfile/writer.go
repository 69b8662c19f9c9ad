package tarfile

import (
	"archive/tar"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// File is a small member written from memory.
type File struct {
	Name string
	Data []byte
}

// epoch is every member's modification time, for deterministic output.
var epoch = time.Unix(0, 0)

// WriteLayout writes a tar of an OCI image layout to name atomically (a
// temporary file in the same directory, renamed when complete): the
// members oci-layout, index.json, then files in order, then the blob
// directories and blobs sorted by digest, each fetched from src and
// verified as it streams. The same arguments give the same bytes.
func WriteLayout(ctx context.Context, name string, index []byte, files []File, blobs []runtime.Blob, src runtime.Fetcher) error {
	f, err := atomicfile.Create(name)
	if err != nil {
		return err
	}
	defer f.Abort()
	tw := tar.NewWriter(f.Writer()) // synced as it grows: Commit waits for the last few MiB
	if err := writeLayout(ctx, tw, index, files, blobs, src); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Commit(0o644)
}

func writeLayout(ctx context.Context, tw *tar.Writer, index []byte, files []File, blobs []runtime.Blob, src runtime.Fetcher) error {
	head := append([]File{{spec.LayoutEntry, ocilayout.LayoutFile()}, {spec.LayoutIndexEntry, index}}, files...)
	for _, m := range head {
		if err := writeBytes(tw, m.Name, m.Data); err != nil {
			return err
		}
	}
	for _, dir := range []string{"blobs/", spec.BlobPrefix} {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	sorted := slices.Clone(blobs)
	slices.SortFunc(sorted, func(a, b runtime.Blob) int { return strings.Compare(string(a.Desc.Digest), string(b.Desc.Digest)) })
	for _, b := range sorted {
		if err := writeBlob(ctx, tw, b, src); err != nil {
			return err
		}
	}
	return nil
}

// BlobName is the member name of a blob: blobs/sha256/<hex>.
func BlobName(b runtime.Blob) string {
	return path.Join("blobs", b.Desc.Digest.Algorithm().String(), b.Desc.Digest.Encoded())
}

func writeBlob(ctx context.Context, tw *tar.Writer, b runtime.Blob, src runtime.Fetcher) error {
	if err := spec.ValidateDigest(b.Desc.Digest); err != nil {
		return err
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: BlobName(b), Size: b.Desc.Size, Mode: 0o644, ModTime: epoch}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
	}
	return runtime.CopyBlob(ctx, tw, src, b)
}

func writeBytes(tw *tar.Writer, name string, data []byte) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: epoch}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}
