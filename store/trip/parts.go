package trip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// A volume of a set (spec/bundle-v1.md section 8.3) may carry parts of a
// blob larger than a volume. Load keeps each part, once it matches its
// own digest, in the home's parts/ directory, named by the blob, the
// part's offset, size and digest; once every part of a blob is there,
// they are joined into the store, which checks the blob's own digest.

// partPath is where part e of a chunked blob waits.
func (l *loader) partPath(e *format.Entry) string { return partPath(l.h, e) }

func partPath(h *store.Home, e *format.Entry) string {
	return filepath.Join(h.PartsDir(), e.Blob.Digest.Encoded(), fmt.Sprintf("%d-%d-%s", e.Offset, e.Size, e.Digest.Encoded()))
}

// part keeps a verified part of a chunked blob; one the store already
// holds whole is read and dropped.
func (l *loader) part(e *format.Entry, src io.Reader) error {
	if _, err := l.h.Store.Stat(e.Blob.Digest); err == nil {
		l.held++
		return discard(src)
	}
	path := l.partPath(e)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := io.Copy(f, src)
		return err
	})
	var ve *spec.VerifyError
	if err != nil && !errors.As(err, &ve) {
		return fmt.Errorf("part %s: %w", path, err)
	}
	return err
}

// partHeld reports whether part e is waiting in the home.
func (l *loader) partHeld(e format.Entry) bool { return partHeld(l.h, e) }

func partHeld(h *store.Home, e format.Entry) bool {
	st, err := os.Stat(partPath(h, &e))
	return err == nil && st.Size() == e.Size
}

// joinParts ingests into the store each chunked blob of ix whose parts
// are all held, verified against the blob's digest and size, and marks it
// good. A blob whose parts do not join into it (a sender's fault) costs
// that blob, and its parts are dropped. It returns the blobs joined,
// whose parts Load removes once the store has them.
func (l *loader) joinParts(ctx context.Context, ix *format.Index, good map[digest.Digest]bool, rep *Report) ([]digest.Digest, error) {
	var joined []digest.Digest
	for i := range ix.Blobs {
		b := &ix.Blobs[i]
		if b.Chunk == nil || good[b.Digest] {
			continue
		}
		if _, err := l.h.Store.Stat(b.Digest); err == nil { // whole already: parts of any set are of no use
			joined = append(joined, b.Digest)
			continue
		}
		if !l.allParts(b) {
			continue
		}
		r := &partsReader{parts: b.Parts(), path: l.partPath}
		desc := ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size}
		_, err := l.batch.Ingest(ctx, desc, r)
		r.close()
		var ve *spec.VerifyError
		switch {
		case errors.As(err, &ve):
			rep.fault("damaged", Fault{Digest: b.Digest, What: "its parts, each as the index lists it, do not join into it: " + err.Error()})
			joined = append(joined, b.Digest) // its parts are of no use
		case err != nil:
			return joined, fmt.Errorf("blob %s: join its parts: %w", b.Digest, err)
		default:
			good[b.Digest] = true
			l.stored++
			joined = append(joined, b.Digest)
		}
	}
	return joined, nil
}

func (l *loader) allParts(b *format.Blob) bool {
	for _, e := range b.Parts() {
		if !l.partHeld(e) {
			return false
		}
	}
	return true
}

// dropParts removes the parts of blobs the store now holds.
func (l *loader) dropParts(ds []digest.Digest) {
	for _, d := range ds {
		os.RemoveAll(filepath.Join(l.h.PartsDir(), d.Encoded()))
	}
}

// partsReader reads a chunked blob's parts one after the other, one file
// open at a time.
type partsReader struct {
	parts []format.Entry
	path  func(*format.Entry) string
	f     *os.File
}

func (r *partsReader) Read(b []byte) (int, error) {
	for {
		if r.f == nil {
			if len(r.parts) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(r.path(&r.parts[0]))
			if err != nil {
				return 0, err
			}
			r.f, r.parts = f, r.parts[1:]
		}
		n, err := r.f.Read(b)
		if err == io.EOF {
			r.close()
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

func (r *partsReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// markWaiting says, of each image of a volume left out only for blobs
// that other volumes of its set carry, which volumes it waits for.
// partHeld says whether a part is at hand. An image that lacks a blob
// this volume carries (damaged, missing) does not wait: it is left out.
func markWaiting(rep *Report, ix *format.Index, partHeld func(format.Entry) bool) {
	if !ix.IsSet() {
		return
	}
	rep.Volume, rep.Volumes = ix.Volume, len(ix.Volumes)
	carriers := ix.Carriers()
	chunked := map[digest.Digest]*format.Blob{}
	for i := range ix.Blobs {
		if ix.Blobs[i].Chunk != nil {
			chunked[ix.Blobs[i].Digest] = &ix.Blobs[i]
		}
	}
	for i := range rep.Images {
		st := &rep.Images[i]
		if st.OK || st.Reason != "" {
			continue
		}
		need, only := map[int]bool{}, true
		for _, d := range st.Lacking {
			vols := carriers[d]
			if b, ok := chunked[d]; ok {
				vols = nil
				for _, e := range b.Parts() {
					if !partHeld(e) {
						vols = append(vols, e.Volume)
					}
				}
			}
			if len(vols) == 0 || slices.Contains(vols, ix.Volume) {
				only = false
			}
			for _, v := range vols {
				need[v] = true
			}
		}
		if only {
			st.Waiting = slices.Sorted(maps.Keys(need))
		}
	}
}

// recordedFromSet returns, for a volume of a set, the images (by
// imageKey) an earlier volume of the same set recorded: Load does not
// write them to targets again.
func recordedFromSet(h *store.Home, ix *format.Index) map[string]bool {
	out := map[string]bool{}
	if !ix.IsSet() {
		return out
	}
	for _, img := range ix.Roots() {
		name := img.Name
		if name == "" {
			name = string(img.Digest)
		}
		if rec, err := h.Catalog.Image(name); err == nil && rec.Bundle == ix.ID && rec.Digest == img.Digest {
			out[imageKey(img.Name, img.Digest)] = true
		}
	}
	return out
}

func imageKey(name string, d digest.Digest) string { return name + "@" + string(d) }

// SetState is what the reports of volumes of one set say of it: the
// volumes that verified (no fault), those that did not, those not given.
type SetState struct {
	ID       string `json:"id"`
	Volumes  int    `json:"volumes"`
	Good     []int  `json:"good"`
	Faulty   []int  `json:"faulty,omitempty"`
	Missing  []int  `json:"missing,omitempty"`
	Complete bool   `json:"complete"`
}

// Sets groups the reports of volumes by set, in the order first met. A
// set is complete when each of its volumes was given and verified.
func Sets(reports []*Report) []SetState {
	var out []SetState
	at := map[string]int{}
	seen := map[string]map[int]bool{}
	for _, r := range reports {
		if r.Index == nil || r.Volumes == 0 {
			continue
		}
		key := r.ID + "/" + fmt.Sprint(r.Volumes)
		i, ok := at[key]
		if !ok {
			i, at[key], seen[key] = len(out), len(out), map[int]bool{}
			out = append(out, SetState{ID: r.ID, Volumes: r.Volumes})
		}
		if seen[key][r.Volume] {
			continue
		}
		seen[key][r.Volume] = true
		if r.OK() {
			out[i].Good = append(out[i].Good, r.Volume)
		} else {
			out[i].Faulty = append(out[i].Faulty, r.Volume)
		}
	}
	for i := range out {
		s := &out[i]
		slices.Sort(s.Good)
		slices.Sort(s.Faulty)
		for v := 1; v <= s.Volumes; v++ {
			if !slices.Contains(s.Good, v) && !slices.Contains(s.Faulty, v) {
				s.Missing = append(s.Missing, v)
			}
		}
		s.Complete = len(s.Good) == s.Volumes
	}
	return out
}
