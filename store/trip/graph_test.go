package trip

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// TestLoad_HostileGraphs: signed bundles whose images are wrong in their
// graph. Each costs only its image: Verify and Load agree on every image,
// the good image beside it loads, nothing is recorded without all its
// blobs, and the store passes check --read-data.
func TestLoad_HostileGraphs(t *testing.T) {
	s := signer(t, 1)
	for _, tc := range []struct {
		name string
		// bad builds the image under test in b and returns its root; edit,
		// if set, changes the bundle's index.
		bad    func(b *blobSet) ocispec.Descriptor
		edit   func(ix *format.Index, b *blobSet)
		wantOK bool
		want   string // the bad image's reason or lacking blob says this
	}{
		{name: "index child with no media type", wantOK: true,
			bad: func(b *blobSet) ocispec.Descriptor {
				m := b.image("bad", nil)
				m.MediaType = ""
				return b.index(m)
			}},
		{name: "manifest described as a layer", want: "described as",
			bad: func(b *blobSet) ocispec.Descriptor {
				m := b.image("bad", nil)
				m.MediaType = ocispec.MediaTypeImageLayerGzip
				return b.index(m)
			}},
		{name: "manifest listed as a layer", want: "listed as",
			bad: func(b *blobSet) ocispec.Descriptor {
				m := b.image("bad", nil)
				b.mt[m.Digest] = ocispec.MediaTypeImageLayerGzip
				return b.index(m)
			}},
		{name: "root listed with another type", want: "described as",
			bad: func(b *blobSet) ocispec.Descriptor {
				m := b.image("bad", nil)
				m.MediaType = ocispec.MediaTypeImageIndex
				return m
			}},
		{name: "config over the size cap", want: "over the",
			bad: func(b *blobSet) ocispec.Descriptor {
				big := b.put(ocispec.MediaTypeImageConfig, make([]byte, spec.MaxManifestSize+1))
				return b.image("bad", func(m *ocispec.Manifest) { m.Config = big })
			}},
		{name: "manifest gives its config the wrong size", want: "its parent gives it",
			bad: func(b *blobSet) ocispec.Descriptor {
				return b.image("bad", func(m *ocispec.Manifest) { m.Config.Size++ })
			}},
		{name: "a layer the index does not list", want: "not listed",
			bad: func(b *blobSet) ocispec.Descriptor {
				m := b.image("bad", nil)
				delete(b.Blobs, b.manifest(m).Layers[1].Digest)
				return m
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlobSet()
			good := b.image("good", nil)
			bad := tc.bad(b)
			ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/good:1": good, "example.com/bad:1": bad})
			path := b.write(t, t.TempDir(), ix, s)
			h := siteHome(t, s)
			vrep, lrep := verifyAndLoad(t, h, path)
			want := map[string]bool{"example.com/good:1": true, "example.com/bad:1": tc.wantOK}
			for verb, rep := range map[string]*Report{"verify": vrep, "load": lrep} {
				if got := statuses(rep); !maps.Equal(got, want) {
					t.Errorf("%s: images OK = %v, want %v", verb, got, want)
				}
				for _, im := range rep.Images {
					if !im.OK && !strings.Contains(im.Reason+digests(im.Lacking), tc.want) {
						t.Errorf("%s: %s left out for %q (lacks %v), want it to say %q", verb, im.Name, im.Reason, im.Lacking, tc.want)
					}
				}
			}
			wantNames := []string{"example.com/good:1"}
			if tc.wantOK {
				wantNames = []string{"example.com/bad:1", "example.com/good:1"}
			}
			if got := recorded(t, h); !slices.Equal(got, wantNames) {
				t.Errorf("recorded %v, want %v", got, wantNames)
			}
			if rec, err := h.Catalog.Image("example.com/bad:1"); tc.wantOK && (err != nil || len(rec.Blobs) != 5) {
				t.Errorf("the image is recorded with blobs %v, %v; want its index, manifest, config and 2 layers", rec.Blobs, err)
			}
			mustCheck(t, h)
		})
	}
}

// manifest reads a manifest of b.
func (b *blobSet) manifest(d ocispec.Descriptor) *runtime.Node {
	m, err := runtime.ReadManifest(context.Background(), b, d)
	if err != nil {
		panic(err)
	}
	return m
}

func digests(ds []digest.Digest) string { return fmt.Sprint(ds) }

// TestMakePlan_UntypedChild: an image index whose child names no media
// type (skopeo and registries accept it) is saved whole: the child is
// typed from its bytes, listed as a manifest, and its config and layers
// are shipped too.
func TestMakePlan_UntypedChild(t *testing.T) {
	b := newBlobSet()
	m := b.image("app", nil)
	m.MediaType = ""
	root := b.index(m)
	root.MediaType = ""
	p, err := MakePlan(context.Background(), []Input{{Image: runtime.Image{Name: "app:1", Desc: root}, From: b}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blobs) != 5 || p.Images[0].MediaType != ocispec.MediaTypeImageIndex {
		t.Errorf("plan = %d blobs, root typed %q; want the index, manifest, config and 2 layers, an index", len(p.Blobs), p.Images[0].MediaType)
	}
	for _, bl := range p.Blobs {
		if bl.Digest == m.Digest && bl.MediaType != ocispec.MediaTypeImageManifest {
			t.Errorf("the child manifest is listed as %q", bl.MediaType)
		}
	}
}

// TestLoad_WholeBundleFaults: a fault that costs the whole bundle is found
// before anything is written: Verify and Load both refuse it, and the
// store stays empty. Before, an index with "id": "" passed Verify and
// failed Load halfway, after its blobs were stored.
func TestLoad_WholeBundleFaults(t *testing.T) {
	s := signer(t, 1)
	for _, tc := range []struct {
		name string
		edit func(ix *format.Index)
		want string
	}{
		{"empty id", func(ix *format.Index) { ix.ID = "" }, "id: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlobSet()
			ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": b.image("app", nil)})
			ix.SchemaVersion, ix.MediaType, ix.ID = spec.BundleSchemaVersion, spec.IndexMediaType, "0123456789abcdef0123456789abcdef"
			format.Order(ix.Blobs)
			tc.edit(ix)
			path := b.writeRaw(t, t.TempDir(), ix, s)
			h := siteHome(t, s)
			check := CheckOptions{Trust: TrustCatalog(h.Catalog)}
			if _, err := Verify(context.Background(), path, check, Admission{}, h); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v, want an error saying %q", err, tc.want)
			}
			if _, err := Load(context.Background(), h, path, LoadOptions{CheckOptions: check}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error saying %q", err, tc.want)
			}
			n := 0
			h.Store.Walk(func(digest.Digest, int64) error { n++; return nil })
			if n != 0 || len(recorded(t, h)) != 0 {
				t.Errorf("a refused bundle left %d blobs and images %v in the store", n, recorded(t, h))
			}
			mustCheck(t, h)
		})
	}
}
