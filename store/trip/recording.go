package trip

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/store"
)

// recording is what Load records of a bundle in one catalog transaction:
// the blobs that arrived intact and those the complete images use, the
// complete images, and the bundle; and those images as targets take them.
type recording struct {
	blobs  []store.BlobRecord
	recs   []store.ImageRecord
	bundle *store.BundleRecord
	images []runtime.Image
}

func newRecording(h *store.Home, ix *format.Index, path string, rep *Report, good map[digest.Digest]bool,
	ids map[digest.Digest]digest.Digest, registered bool) *recording {
	now := time.Now().UTC()
	listed := map[digest.Digest]format.Blob{}
	for _, b := range ix.Blobs {
		listed[b.Digest] = b
	}
	blobs := map[digest.Digest]store.BlobRecord{}
	keep := func(d digest.Digest) {
		if _, ok := blobs[d]; ok {
			return
		}
		rec := store.BlobRecord{Digest: d, Size: listed[d].Size, MediaType: listed[d].MediaType, Added: now}
		if _, ok := listed[d]; !ok {
			rec.Size, _ = h.Store.Stat(d)
		}
		blobs[d] = rec
	}
	for d := range good {
		keep(d)
	}
	r := &recording{bundle: &store.BundleRecord{ID: ix.ID, Direction: store.DirectionLoaded, From: ix.From.Site, To: ix.To,
		Sequence: ix.Sequence, Recorded: now, Path: path, Blobs: len(good), Unregistered: !registered}}
	r.bundle.Created, _ = time.Parse(time.RFC3339, ix.Created)
	roots := ix.Roots()
	for i, st := range rep.Images {
		if !st.OK {
			r.bundle.Damaged = append(r.bundle.Damaged, st.Lacking...)
			continue
		}
		for _, d := range st.Blobs {
			keep(d)
			if id, ok := ids[d]; ok {
				rec := blobs[d]
				rec.DiffID = id
				blobs[d] = rec
			}
		}
		img := roots[i]
		name := img.Name
		if name == "" {
			name = string(img.Digest)
		}
		rec := store.ImageRecord{Name: name, Digest: img.Digest, MediaType: img.MediaType,
			Size: img.Size, Platforms: img.Platforms, Blobs: st.Blobs, Updated: now, Bundle: ix.ID}
		if i >= len(ix.Images) {
			c := ix.Charts[i-len(ix.Images)]
			rec.Chart = &store.ChartRecord{Name: c.Name, Version: c.Version, Images: c.Images}
		}
		r.recs = append(r.recs, rec)
		r.images = append(r.images, runtime.Image{Name: img.Name, Desc: st.graph.Root(), Graph: st.graph})
		r.bundle.Images = append(r.bundle.Images, name)
	}
	r.blobs = make([]store.BlobRecord, 0, len(blobs))
	for d, b := range blobs {
		r.blobs = append(r.blobs, b)
		if good[d] {
			r.bundle.Size += b.Size
		}
	}
	return r
}

// commit records r in the catalog in one transaction, then rewrites the
// store's index.json from the catalog.
func (r *recording) commit(ctx context.Context, h *store.Home) error {
	if err := h.Catalog.Record(ctx, r.blobs, r.recs, r.bundle); err != nil {
		return fmt.Errorf("record bundle %s: %w", r.bundle.ID, err)
	}
	return h.SyncIndex()
}

// writeWhileRecording commits rec and, at the same time, runs write (the
// targets' writes), and waits for both; a failed commit cancels ctx, the
// writes' context. The two need not wait for each other:
//
//   - Both start after Batch.Flush: every blob either one names is durable
//     in the store under its name. The catalog gets no row for a blob not
//     on disk whatever the targets do, and a target reads only the store's
//     verified, read-only blob files, never the catalog or the store's
//     index.json, and names an image (index.json, a tag) only once its
//     blobs are durable there.
//   - A crash leaves the catalog as it was or as it is after the
//     transaction, and each target as it was or after its own atomic
//     commit. A target written and the bundle not recorded (a crash, a
//     failed commit) is repaired by loading the bundle again, which is no
//     replay while it is unrecorded; the opposite, recorded and not
//     written, was possible before and names ferry copy (targetError).
//
// The commit's error comes first: the bundle is then not loaded, and the
// error says which targets were written all the same.
func writeWhileRecording(ctx context.Context, cancel context.CancelFunc, h *store.Home, rec *recording,
	rep *Report, write func(context.Context) error) (recErr, writeErr error) {
	done := make(chan error, 1)
	go func() { done <- write(ctx) }()
	recErr = rec.commit(ctx, h)
	if recErr != nil {
		cancel()
	}
	writeErr = <-done
	if recErr != nil && len(rep.Written) > 0 {
		var names []string
		for _, w := range rep.Written {
			names = append(names, w.Target)
		}
		recErr = fmt.Errorf("%w; its images were written to %s all the same: load the bundle again to record them",
			recErr, strings.Join(names, ", "))
	}
	return recErr, writeErr
}

// writeTargets writes images to each target that takes them, adding each
// write to rep.Written; the first failure ends it (targetError).
func writeTargets(ctx context.Context, into []Destination, images []runtime.Image, charts []format.Chart,
	src runtime.Fetcher, rep *Report) error {
	for _, t := range into {
		if len(images) == 0 {
			break
		}
		imgs := t.roots(images, charts)
		if len(imgs) == 0 {
			continue
		}
		names, err := runtime.TargetNames(t.Target, imgs)
		if err == nil {
			err = t.Target.Write(ctx, imgs, src)
		}
		if err != nil {
			return targetError(t.Name, images, err)
		}
		rep.Written = append(rep.Written, Written{Target: t.Name, Images: imageNames(imgs), Names: names})
	}
	return nil
}
