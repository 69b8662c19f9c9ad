package trip

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// sender writes bundles of the images in its blob set, one sequence each.
type sender struct {
	t   *testing.T
	b   *blobSet
	s   ssh.Signer
	dir string
}

// bundle writes a bundle carrying images (name → root), with the given
// sequence and addressee; edit may change its index before it is signed.
func (sd sender) bundle(seq uint64, to string, images map[string]ocispec.Descriptor, edit func(*format.Index)) string {
	path, _ := sd.bundleIndex(seq, to, images, edit)
	return path
}

func (sd sender) bundleIndex(seq uint64, to string, images map[string]ocispec.Descriptor, edit func(*format.Index)) (string, *format.Index) {
	ix := sd.b.bundleIndex(images)
	ix.Sequence, ix.To = seq, to
	if edit != nil {
		edit(ix)
	}
	return sd.b.write(sd.t, sd.dir, ix, sd.s), ix
}

// damaged writes the bundle of the (written, so complete) index ix again
// with the entry of blob d holding other bytes of the same size: a
// scratch on the medium.
func (sd sender) damaged(ix *format.Index, d digest.Digest) string {
	good := sd.b.Blobs[d]
	sd.b.Blobs[d] = append([]byte("X"), good[1:]...)
	defer func() { sd.b.Blobs[d] = good }()
	return sd.b.writeRaw(sd.t, sd.t.TempDir(), ix, sd.s)
}

// load loads path at h trusting its catalog (or trust when given) and
// returns the report and error.
func load(h *store.Home, path string, opts LoadOptions) (*Report, error) {
	if opts.Trust == nil && !opts.InsecureSkipSignature {
		opts.Trust = TrustCatalog(h.Catalog)
	}
	return Load(context.Background(), h, path, opts)
}

// tag is the digest the store's image name points at, "" if none.
func tag(t *testing.T, h *store.Home, name string) digest.Digest {
	t.Helper()
	rec, err := h.Catalog.Image(name)
	if errors.Is(err, spec.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec.Digest
}

// TestLoad_NoRollback: each way a tag moved back to an older image, or a
// bundle loaded twice, with exit 0, now refused: the site takes only a
// bundle newer than the newest whose images it recorded from that sender,
// whatever either was addressed to, and never moves a tag to an image an
// earlier bundle from the sender replaced.
func TestLoad_NoRollback(t *testing.T) {
	s := signer(t, 1)
	newSender := func(t *testing.T) (sender, ocispec.Descriptor, ocispec.Descriptor, ocispec.Descriptor) {
		b := newBlobSet()
		return sender{t: t, b: b, s: s, dir: t.TempDir()}, b.image("old", nil), b.image("new", nil), b.image("other", nil)
	}
	t.Run("a damaged bundle that recorded images counts", func(t *testing.T) {
		sd, old, new, other := newSender(t)
		h := siteHome(t, s)
		older := sd.bundle(1, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": old}, nil)
		good, ix := sd.bundleIndex(2, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": new, "example.com/other:1": other}, nil)
		newer := sd.damaged(ix, sd.b.manifest(other).Layers[0].Digest)
		rep, err := load(h, newer, LoadOptions{})
		if err != nil || rep.OK() || tag(t, h, "example.com/app:1") != new.Digest {
			t.Fatalf("load of the damaged newer bundle = %v, %v; want app:1 recorded, other left out", rep, err)
		}
		if _, err := load(h, older, LoadOptions{}); !errors.Is(err, spec.ErrReplay) {
			t.Errorf("load of the older bundle after a damaged newer one = %v, want ErrReplay", err)
		}
		if got := tag(t, h, "example.com/app:1"); got != new.Digest {
			t.Errorf("app:1 moved back to %s", got)
		}
		// A good copy of the damaged bundle still loads.
		if rep, err := load(h, good, LoadOptions{}); err != nil || !rep.OK() {
			t.Errorf("load of a good copy of the damaged bundle = %v, %v; want it whole", rep, err)
		}
		if rep, err := load(h, good, LoadOptions{}); !errors.Is(err, spec.ErrReplay) || !strings.Contains(err.Error(), "ferry copy") {
			t.Errorf("load of the good copy again = %v, %v; want ErrReplay saying to use ferry copy", rep, err)
		}
		mustCheck(t, h)
	})
	t.Run("addressed and unaddressed bundles share one sequence", func(t *testing.T) {
		sd, old, new, _ := newSender(t)
		h := siteHome(t, s)
		newer := sd.bundle(5, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": new}, nil)
		older := sd.bundle(2, "", map[string]ocispec.Descriptor{"example.com/app:1": old}, nil)
		mustLoad(t, h, newer)
		if _, err := load(h, older, LoadOptions{}); !errors.Is(err, spec.ErrReplay) {
			t.Errorf("load of an older bundle for any site = %v, want ErrReplay", err)
		}
		if got := tag(t, h, "example.com/app:1"); got != new.Digest {
			t.Errorf("app:1 moved back to %s", got)
		}
		mustCheck(t, h)
	})
	t.Run("equal created times: the tag history decides", func(t *testing.T) {
		sd, old, new, _ := newSender(t)
		h := siteHome(t, s)
		mustLoad(t, h, sd.bundle(1, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": old}, nil))
		mustLoad(t, h, sd.bundle(2, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": new}, nil))
		back := sd.bundle(3, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": old}, nil)
		rep, err := load(h, back, LoadOptions{})
		if err != nil || rep.OK() || !strings.Contains(rep.Images[0].Reason, "--allow-downgrade") {
			t.Errorf("load of a newer bundle moving app:1 back = %+v, %v; want it left out naming --allow-downgrade", rep, err)
		}
		if got := tag(t, h, "example.com/app:1"); got != new.Digest {
			t.Errorf("app:1 moved back to %s", got)
		}
		// It recorded no image, so it does not count as loaded.
		if rep, err := load(h, back, LoadOptions{AllowDowngrade: true}); err != nil || !rep.OK() || tag(t, h, "example.com/app:1") != old.Digest {
			t.Errorf("load --allow-downgrade = %+v, %v; want app:1 moved back", rep, err)
		}
		mustCheck(t, h)
	})
	t.Run("sequence 0 is refused", func(t *testing.T) {
		sd, old, _, _ := newSender(t)
		h := siteHome(t, s)
		ix := sd.b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": old})
		ix.SchemaVersion, ix.MediaType, ix.ID, ix.Sequence = 1, spec.IndexMediaType, "0123456789abcdef0123456789abcdef", 0
		format.Order(ix.Blobs)
		path := sd.b.writeRaw(t, sd.dir, ix, s)
		if _, err := load(h, path, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "sequence") {
			t.Errorf("load of a bundle of sequence 0 = %v, want it refused naming the sequence", err)
		}
		mustCheck(t, h)
	})
	t.Run("a key given on the command line never speaks for a registered site", func(t *testing.T) {
		sd, old, new, _ := newSender(t)
		h := siteHome(t, s)
		forger := signer(t, 9)
		forged := sender{t: t, b: sd.b, s: forger, dir: t.TempDir()}.bundle(1000000000, "", map[string]ocispec.Descriptor{"example.com/app:1": old}, nil)
		if _, err := load(h, forged, LoadOptions{CheckOptions: CheckOptions{Trust: TrustKey(forger.PublicKey(), h.Catalog)}}); !errors.Is(err, spec.ErrBadSignature) {
			t.Errorf("load --key OTHER of a bundle from registered hq = %v, want ErrBadSignature", err)
		}
		// Unchecked, it loads (the user said so) but counts for nobody.
		if _, err := load(h, forged, LoadOptions{CheckOptions: CheckOptions{InsecureSkipSignature: true}}); err != nil {
			t.Fatalf("load --insecure-skip-signature = %v", err)
		}
		if rep, err := load(h, sd.bundle(2, "plant-7", map[string]ocispec.Descriptor{"example.com/app:1": new}, nil), LoadOptions{}); err != nil || !rep.OK() {
			t.Errorf("a genuine bundle after a forged sequence = %+v, %v; want it loaded", rep, err)
		}
		mustCheck(t, h)
	})
}

func mustLoad(t *testing.T, h *store.Home, path string) {
	t.Helper()
	rep, err := load(h, path, LoadOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("load %s = %+v, %v", filepath.Base(path), rep, err)
	}
}
