package trip

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// Destination is a place Load writes images to: the Target, and the name
// the user gave it (--into).
type Destination struct {
	Name   string
	Target runtime.Target
	// Charts says the target holds OCI artifacts that are not container
	// images (a registry, an OCI layout): the bundle's charts are written
	// there too. Other targets get its images only.
	Charts bool
}

// LoadOptions says how to trust a bundle, whether to take it, and where to
// write its images.
type LoadOptions struct {
	CheckOptions
	Admission
	// AllowDowngrade moves a tag to an image older than the one it points
	// at in the store.
	AllowDowngrade bool
	Into           []Destination
	// ExtrasDir is where the bundle's extra files (ferry's own release,
	// say) are written; "" leaves them out.
	ExtrasDir string
}

// Load verifies the bundle at path while ingesting every entry into h's
// store, records in the catalog each image whose blobs are all in the
// store, and writes those images to each target. A bad signature or index
// writes nothing; a damaged entry costs only that blob and the images that
// need it. The report says what was kept and what was left out; Report.Err
// is non-nil when anything was.
func Load(ctx context.Context, h *store.Home, path string, opts LoadOptions) (*Report, error) {
	l := &loader{h: h, extrasDir: opts.ExtrasDir}
	defer l.closeScratch()
	// Each blob is synced and named in the background while the next is
	// read; the catalog hears of none before Flush.
	l.batch = h.Store.NewBatch(func(d digest.Digest, err error) { l.arrived.arrived(d, err == nil) })
	registered := false
	// Targets that take blobs ahead get each as it is ingested.
	ctx, cancel := context.WithCancel(ctx)
	var arrived *arrivals
	waitSent := func() {}
	defer func() { cancel(); waitSent() }()
	admit := func(ix *format.Index, key ssh.PublicKey) error {
		registered = Registered(h.Catalog, ix.From.Site, key)
		if err := errors.Join(opts.Admission.Check(h, ix)...); err != nil {
			if registered {
				err = errors.Join(err, noteArrival(h, ix))
			}
			return err
		}
		if err := checkTargetNames(ix, opts.Into); err != nil {
			return err
		}
		arrived = newArrivals(h.Store, ix)
		l.arrived, l.ix = arrived, ix
		if sendsAhead(opts.Into) {
			l.batch.Follow(arrived) // each blob sent on as it is written
		}
		waitSent = sendAhead(ctx, ix, opts.Into, arrived)
		return nil
	}
	rep, r, good, err := scan(ctx, path, opts.CheckOptions, admit, now(l.loadEntry))
	var joined []digest.Digest
	if err == nil && r.Index().IsSet() {
		joined, err = l.joinParts(ctx, r.Index(), good, rep)
	}
	if ferr := l.batch.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("bundle %s: %w", path, ferr)
	}
	if arrived != nil {
		arrived.end()
	}
	if err != nil {
		return nil, err
	}
	l.dropParts(joined)
	rep.Stored, rep.Held, rep.Rebuilt, rep.Repaired, rep.Extras = l.stored, l.held, l.rebuilt, l.repaired, l.extras
	ix := r.Index()
	rep.Images = checkImages(ctx, ix, h.Store, func(d digest.Digest) bool {
		if good[d] {
			return true
		}
		_, err := h.Store.Stat(d)
		return err == nil
	})
	markWaiting(rep, ix, l.partHeld)
	before := recordedFromSet(h, ix)
	readConfigs(ctx, h, rep)
	if !opts.AllowDowngrade {
		refuseDowngrades(ctx, h, ix, rep)
	}
	rec := newRecording(h, ix, path, rep, good, layerDiffIDs(rep), registered)
	images := slices.DeleteFunc(slices.Clone(rec.images), func(img runtime.Image) bool {
		return before[imageKey(img.Name, img.Desc.Digest)]
	})
	// The targets are written while the catalog records the bundle
	// (writeWhileRecording says why that is safe).
	recErr, err := writeWhileRecording(ctx, cancel, h, rec, rep, func(ctx context.Context) error {
		waitSent()
		return writeTargets(ctx, opts.Into, images, ix.Charts, h.Store, rep)
	})
	if recErr != nil {
		return nil, recErr
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// noteArrival records that a bundle from a registered sender, addressed
// here or to any site, arrived though it is not loaded (a missing
// prerequisite, say), so that the next receipt tells the sender.
func noteArrival(h *store.Home, ix *format.Index) error {
	if self, err := h.Catalog.Self(); err != nil || (ix.To != "" && ix.To != self) {
		return err
	}
	return h.Catalog.NoteArrival(ix.From.Site, store.SenderBundle{Sequence: ix.Sequence, Bundle: ix.ID, To: ix.To})
}

// targetError explains a target that failed after the bundle's images
// were recorded: they are in the store, and loading the bundle again
// would be refused as a replay, so ferry copy is the way to write them.
// A blob the store holds damaged says so and how to repair it.
func targetError(target string, images []runtime.Image, err error) error {
	var ve *spec.VerifyError
	if errors.As(err, &ve) {
		err = store.Damaged(err)
	}
	names := imageNames(images)
	for i, n := range names {
		names[i] = spec.Quote(n)
	}
	return fmt.Errorf("write to %s: %w; the images are recorded in the store (loading this bundle again is refused "+
		"as a replay): write them with ferry copy IMAGE %s, for IMAGE in %s", target, err, target, strings.Join(names, " "))
}

// leaveOut marks a complete image as left out, saying why.
func (st *ImageStatus) leaveOut(why string) { st.OK, st.Reason = false, why }

// readConfigs reads, once, the configs of each complete image from the
// store into its graph, for the DiffIDs and created times the steps after
// ask; an image whose configs the store cannot serve is left out, naming
// why.
func readConfigs(ctx context.Context, h *store.Home, rep *Report) {
	for i := range rep.Images {
		st := &rep.Images[i]
		if !st.OK {
			continue
		}
		if err := st.graph.ReadConfigs(ctx, h.Store); err != nil {
			st.leaveOut(err.Error())
		}
	}
}

// layerDiffIDs maps the layers of each complete image to their DiffIDs,
// from the configs its graph read.
func layerDiffIDs(rep *Report) map[digest.Digest]digest.Digest {
	out := map[digest.Digest]digest.Digest{}
	for _, st := range rep.Images {
		if st.OK {
			maps.Copy(out, st.graph.DiffIDs())
		}
	}
	return out
}

func imageNames(images []runtime.Image) []string {
	out := make([]string, len(images))
	for i, img := range images {
		out[i] = img.String()
	}
	return out
}

// checkTargetNames asks every target, before anything is read or
// written, the name it would give each image of the bundle, so that an
// image a target cannot name (only a tag, where it needs a repository),
// or two images it would give one name, refuse the bundle with nothing
// written anywhere.
func checkTargetNames(ix *format.Index, targets []Destination) error {
	images := runtimeImages(ix.Roots())
	for _, t := range targets {
		if _, err := runtime.TargetNames(t.Target, t.roots(images, ix.Charts)); err != nil {
			return fmt.Errorf("write to %s: %w", t.Name, err)
		}
	}
	return nil
}

// roots returns the images to write to t: all of them, or, for a target
// that does not hold charts, those that are not the roots of charts.
func (t Destination) roots(images []runtime.Image, charts []format.Chart) []runtime.Image {
	if t.Charts || len(charts) == 0 {
		return images
	}
	isChart := chartRoots(charts)
	var out []runtime.Image
	for _, img := range images {
		if !isChart[img.Name+"@"+string(img.Desc.Digest)] {
			out = append(out, img)
		}
	}
	return out
}
