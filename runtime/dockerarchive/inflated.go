package dockerarchive

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Inflate gives a compressed layer's uncompressed tar, checked against
// its DiffID, and its size; a nil ReadCloser means the layer is not
// compressed and goes as it is.
type Inflate func(ctx context.Context, l Layer) (io.ReadCloser, int64, error)

// StreamInflated streams to w a legacy docker archive of images (names
// as RepoTags gives them, an index replaced by its engine platform
// manifest): manifest.json, the configs, and each layer uncompressed by
// inflate (named blobs/sha256/<its DiffID>), leaving out each layer for
// which omit returns true at every place it is used, as Stream does.
// It is for Docker's classic image store, whose load decompresses a layer
// with Go's gzip in one thread after the whole archive has arrived:
// inflated by the sender, the next layer while the engine receives the
// one before, a layer costs the engine only its own work. The archive
// has no OCI layout: an uncompressed layer is not the blob its manifest
// names. inflate is called for the layers in order, from one goroutine,
// one layer ahead of the one being written. It returns the layers left
// out.
func StreamInflated(ctx context.Context, w io.Writer, where string, images []runtime.Image, src runtime.Fetcher,
	omit func(Layer) bool, inflate Inflate) ([]ocispec.Descriptor, error) {
	a, keep, omitted, err := buildOmitting(ctx, where, images, src, omit)
	if err != nil {
		return nil, err
	}
	layers, err := archiveLayers(ctx, src, a.blobs)
	if err != nil {
		return nil, err
	}
	manifest, err := inflatedManifest(a.files[0].Data, layers)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	if err := writeMember(tw, ManifestEntry, int64(len(manifest)), func(w io.Writer) error { _, err := w.Write(manifest); return err }); err != nil {
		return nil, err
	}
	var send []Layer
	for _, b := range keep {
		l, isLayer := layers[b.Desc.Digest]
		switch {
		case isLayer:
			send = append(send, l)
		case b.Data == nil: // a config
			if err := writeMember(tw, blobName(b.Desc), b.Desc.Size, func(w io.Writer) error { return runtime.CopyBlob(ctx, w, src, b) }); err != nil {
				return nil, err
			}
		}
	}
	if err := writeLayers(ctx, tw, src, send, inflate); err != nil {
		return nil, err
	}
	return omitted, tw.Close()
}

// archiveLayers returns every layer of the manifests among blobs, by its
// blob digest.
func archiveLayers(ctx context.Context, src runtime.Fetcher, blobs []runtime.Blob) (map[digest.Digest]Layer, error) {
	out := map[digest.Digest]Layer{}
	for _, b := range blobs {
		if b.Data == nil || !spec.IsManifest(b.Desc.MediaType) {
			continue
		}
		ls, err := Layers(ctx, src, b.Data)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", b.Desc.Digest, err)
		}
		for _, l := range ls {
			out[l.Desc.Digest] = l
		}
	}
	return out, nil
}

// inflatedManifest renames, in manifest.json, every layer member to its
// DiffID's name: the member holds it uncompressed.
func inflatedManifest(manifest []byte, layers map[digest.Digest]Layer) ([]byte, error) {
	var items []ManifestItem
	if err := json.Unmarshal(manifest, &items); err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, l := range layers {
		byName[blobName(l.Desc)] = blobName(ocispec.Descriptor{Digest: l.DiffID})
	}
	for i := range items {
		for j, name := range items[i].Layers {
			if n, ok := byName[name]; ok {
				items[i].Layers[j] = n
			}
		}
	}
	return json.Marshal(items)
}

// inflated is a layer made ready to write: its bytes, uncompressed, and
// their size.
type inflated struct {
	l    Layer
	rc   io.ReadCloser
	size int64
	err  error
}

// writeLayers writes each layer, inflated, while a goroutine inflates the
// next one.
func writeLayers(ctx context.Context, tw *tar.Writer, src runtime.Fetcher, layers []Layer, inflate Inflate) error {
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan inflated, 1)
	go func() {
		defer close(ready)
		for _, l := range layers {
			rc, size, err := inflate(ctx, l)
			select {
			case ready <- inflated{l: l, rc: rc, size: size, err: err}:
			case <-ctx.Done():
				if rc != nil {
					rc.Close()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for x := range ready {
			if x.rc != nil {
				x.rc.Close()
			}
		}
	}()
	seen := map[digest.Digest]bool{}
	for x := range ready {
		if x.err != nil {
			return fmt.Errorf("layer %s: %w", x.l.Desc.Digest, x.err)
		}
		err := writeLayer(ctx, tw, src, x, seen)
		if x.rc != nil {
			x.rc.Close()
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

func writeLayer(ctx context.Context, tw *tar.Writer, src runtime.Fetcher, x inflated, seen map[digest.Digest]bool) error {
	if x.rc == nil { // not compressed: as it is
		return writeMember(tw, blobName(x.l.Desc), x.l.Desc.Size, func(w io.Writer) error {
			return runtime.CopyBlob(ctx, w, src, runtime.Blob{Desc: x.l.Desc})
		})
	}
	if seen[x.l.DiffID] { // two blobs of one DiffID: one member
		return nil
	}
	seen[x.l.DiffID] = true
	return writeMember(tw, blobName(ocispec.Descriptor{Digest: x.l.DiffID}), x.size, func(w io.Writer) error {
		_, err := io.Copy(w, runtime.ContextReader(ctx, x.rc))
		return err
	})
}

// writeMember writes a regular member of size bytes that fill writes.
func writeMember(tw *tar.Writer, name string, size int64, fill func(io.Writer) error) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := fill(tw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
