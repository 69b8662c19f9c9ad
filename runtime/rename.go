package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/ferryhq/ferry/spec"
)

// Renamed returns t writing images under other names: name, when set, is
// the name of the one image written (docker-daemon:REF, containerd:REF
// and podman:REF as targets); repo, when set, is the repository of each
// image named only by a tag (WithRepository). With neither it returns t.
func Renamed(t Target, name, repo string) Target {
	if name == "" && repo == "" {
		return t
	}
	return &renamed{t: t, name: name, repo: repo}
}

type renamed struct {
	t          Target
	name, repo string
}

var (
	_ Namer      = (*renamed)(nil)
	_ BlobSender = (*renamed)(nil)
)

func (r *renamed) rename(images []Image) ([]Image, error) {
	if r.name != "" && len(images) != 1 {
		return nil, fmt.Errorf("the target names one image, %s, and was given %d: %w", r.name, len(images), spec.ErrBadInput)
	}
	out := slices.Clone(images)
	for i := range out {
		if r.name != "" {
			out[i].Name = r.name
		} else {
			out[i].Name = WithRepository(out[i].Name, r.repo)
		}
	}
	return out, nil
}

// Write writes the renamed images to the target.
func (r *renamed) Write(ctx context.Context, images []Image, src Fetcher) error {
	images, err := r.rename(images)
	if err != nil {
		return err
	}
	return r.t.Write(ctx, images, src)
}

// Names is what the target calls the renamed images.
func (r *renamed) Names(images []Image) ([]string, error) {
	images, err := r.rename(images)
	if err != nil {
		return nil, err
	}
	return TargetNames(r.t, images)
}

// SendBlobs sends the blobs of the renamed images ahead, when the target
// can (BlobSender).
func (r *renamed) SendBlobs(ctx context.Context, images []Image, src Fetcher) error {
	bs, ok := r.t.(BlobSender)
	if !ok {
		return nil
	}
	images, err := r.rename(images)
	if err != nil {
		return err
	}
	return bs.SendBlobs(ctx, images, src)
}

// Close closes the target.
func (r *renamed) Close() error { return r.t.Close() }
