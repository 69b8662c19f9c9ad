package containerd

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"

	"github.com/ferryhq/ferry/runtime"
)

// snapshotter is the snapshotter images are unpacked into: Options'
// Snapshotter, else CONTAINERD_SNAPSHOTTER (as ctr reads it), else ""
// (the namespace's default: its containerd.io/defaults/snapshotter label,
// or containerd's default snapshotter).
func (o Options) snapshotter() string {
	return firstSet(o.Snapshotter, os.Getenv("CONTAINERD_SNAPSHOTTER"))
}

// unpack unpacks img into the snapshotter, as ctr images import does, so
// that the first container started from it does not pay for it: each
// layer applied once (containerd skips a chain it has), the snapshots
// rooted by the labels containerd sets on the config. An image with no
// manifest for this machine's platform is left packed: it cannot run
// here.
func (t *Target) unpack(ctx context.Context, img runtime.Image) error {
	rec := images.Image{Name: img.Name, Target: img.Desc}
	_, err := images.Manifest(ctx, t.c.c.ContentStore(), img.Desc, platforms.Default())
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sn := t.snapshotter
	if err := client.NewImage(t.c.c, rec).Unpack(ctx, sn); err != nil {
		if sn == "" {
			sn = "the namespace's default snapshotter"
		}
		return fmt.Errorf("unpack into %s: %w (--no-unpack leaves images packed)", sn, err)
	}
	return nil
}
