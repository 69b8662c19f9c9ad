package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// leaseExpiry bounds how long the blobs of a Write that died midway are
// kept from containerd's garbage collector.
const leaseExpiry = time.Hour

// Target writes images into a containerd namespace.
type Target struct {
	c           *conn
	unpacking   bool
	snapshotter string
}

var (
	_ runtime.Target      = (*Target)(nil)
	_ runtime.BlobChecker = (*Target)(nil)
	_ runtime.Namer       = (*Target)(nil)
)

// NewTarget returns a Target for the containerd and namespace opts names.
// Nothing is asked of containerd until Write or Exists.
func NewTarget(opts Options) (*Target, error) {
	c, err := dial(opts)
	if err != nil {
		return nil, err
	}
	return &Target{c: c, unpacking: !opts.NoUnpack, snapshotter: opts.snapshotter()}, nil
}

// Exists reports whether the content store holds a blob of desc's digest
// and size.
func (t *Target) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return false, err
	}
	info, err := t.c.c.ContentStore().Info(t.c.ctx(ctx), desc.Digest)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, t.c.wrap(ctx, fmt.Errorf("blob %s: %w", desc.Digest, err))
	}
	return info.Size == desc.Size, nil
}

// Write puts every blob the images need into the content store, under a
// lease (expiring after an hour, deleted when Write returns) so that
// containerd's garbage collector leaves them alone meanwhile. Blobs the
// store has are kept; each other blob is streamed from src, verified as
// it streams and again by containerd on commit. Manifests and indexes get
// the containerd.io/gc.ref.content.* labels naming their children, as
// ctr import sets them, so the image record roots the whole graph. Then
// each image record is created, or updated to the new target, named
// Image.Name exactly as given (ctr shows it so; no docker.io is added).
// Image records are written only after every blob is in: a failed Write
// leaves the namespace's images as they were. Then, unless
// Options.NoUnpack, each image is unpacked into the snapshotter (see
// unpack), as ctr images import does.
func (t *Target) Write(ctx context.Context, imgs []runtime.Image, src runtime.Fetcher) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := runtime.TargetNames(t, imgs); err != nil {
		return err
	}
	blobs, err := runtime.Collect(ctx, src, imgs)
	if err != nil {
		return fmt.Errorf("%s: %w", t.c.where(), err)
	}
	lm := t.c.c.LeasesService()
	lease, err := lm.Create(t.c.ctx(ctx), leases.WithRandomID(), leases.WithExpiration(leaseExpiry))
	if err != nil {
		return t.c.wrap(ctx, fmt.Errorf("create lease: %w", err))
	}
	defer lm.Delete(t.c.ctx(context.WithoutCancel(ctx)), lease)
	lctx := leases.WithLease(t.c.ctx(ctx), lease.ID)
	// Children before parents, so that a manifest is in only once all it
	// names is.
	for _, b := range slices.Backward(blobs) {
		if err := t.writeBlob(lctx, lease, b, src); err != nil {
			return t.c.wrap(ctx, err)
		}
	}
	for _, img := range imgs {
		if err := t.putImage(lctx, img); err != nil {
			return t.c.wrap(ctx, fmt.Errorf("image %s: %w", img.Name, err))
		}
	}
	for _, img := range imgs {
		if !t.unpacking {
			break
		}
		if err := t.unpack(lctx, img); err != nil {
			return t.c.wrap(ctx, fmt.Errorf("image %s: %w", img.Name, err))
		}
	}
	return nil
}

// Names returns each image's name, as containerd records it: exactly as
// given. An image without a name, or named only by a tag, is refused.
func (t *Target) Names(imgs []runtime.Image) ([]string, error) {
	names := make([]string, len(imgs))
	for i, img := range imgs {
		if err := runtime.CheckNamed(t.c.where(), img); err != nil {
			return nil, err
		}
		names[i] = img.Name
	}
	return names, nil
}

// Close closes the connection to containerd.
func (t *Target) Close() error { return t.c.close() }

func (t *Target) writeBlob(ctx context.Context, lease leases.Lease, b runtime.Blob, src runtime.Fetcher) error {
	cs := t.c.c.ContentStore()
	labels, err := gcLabels(b)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", b.Desc.Digest, err)
	}
	if ok, err := t.Exists(ctx, b.Desc); err != nil || ok {
		if err != nil {
			return err
		}
		return t.keep(ctx, lease, b.Desc, labels)
	}
	var r io.Reader
	if b.Data != nil {
		r = bytes.NewReader(b.Data)
	} else {
		rc, err := src.Fetch(ctx, b.Desc)
		if err != nil {
			return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
		}
		defer rc.Close()
		r = runtime.ContextReader(ctx, spec.Verify(rc, b.Desc.Digest, b.Desc.Size))
	}
	ref := "ferry-" + lease.ID + "-" + b.Desc.Digest.String()
	if err := content.WriteBlob(ctx, cs, ref, r, b.Desc, content.WithLabels(labels)); err != nil {
		_ = cs.Abort(context.WithoutCancel(ctx), ref)
		var ve *spec.VerifyError
		if errors.As(err, &ve) {
			return ve // names the digest already
		}
		return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
	}
	return nil
}

// keep adds a blob the store already has to the lease, so the collector
// cannot take it before the image record roots it, and sets its labels.
func (t *Target) keep(ctx context.Context, lease leases.Lease, desc ocispec.Descriptor, labels map[string]string) error {
	err := t.c.c.LeasesService().AddResource(ctx, lease, leases.Resource{ID: desc.Digest.String(), Type: "content"})
	if err != nil {
		return fmt.Errorf("blob %s: lease: %w", desc.Digest, err)
	}
	if len(labels) == 0 {
		return nil
	}
	info := content.Info{Digest: desc.Digest, Labels: labels}
	var fields []string
	for k := range labels {
		fields = append(fields, "labels."+k)
	}
	if _, err := t.c.c.ContentStore().Update(ctx, info, fields...); err != nil {
		return fmt.Errorf("blob %s: labels: %w", desc.Digest, err)
	}
	return nil
}

// putImage creates the image record, or points an existing one at the
// new target.
func (t *Target) putImage(ctx context.Context, img runtime.Image) error {
	is := t.c.c.ImageService()
	rec := images.Image{Name: img.Name, Target: img.Desc}
	if _, err := is.Create(ctx, rec); err == nil || !errdefs.IsAlreadyExists(err) {
		return err
	}
	_, err := is.Update(ctx, rec, "target")
	return err
}

// gcLabels are the labels by which containerd's garbage collector
// follows a manifest or index to its children, named as
// images.SetChildrenMappedLabels names them with images.ChildGCLabels.
// Other blobs have none.
func gcLabels(b runtime.Blob) (map[string]string, error) {
	if b.Node == nil {
		return nil, nil
	}
	kids := b.Node.Children()
	if len(kids) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	count := map[string]int{}
	for _, k := range kids {
		for _, key := range images.ChildGCLabels(k) {
			n := count[key]
			count[key]++
			switch {
			case len(key) > 7 && key[len(key)-7:] == ".sha256.":
				key += k.Digest.Encoded()[:12]
			case n > 0 || key[len(key)-1] == '.':
				key = fmt.Sprintf("%s%d", key, n)
			}
			labels[key] = k.Digest.String()
		}
	}
	return labels, nil
}
