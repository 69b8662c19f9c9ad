package ocilayout

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

func entry(s string, ann ...string) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString(s), Size: 1}
	if len(ann) > 0 {
		d.Annotations = map[string]string{}
		for i := 0; i+1 < len(ann); i += 2 {
			d.Annotations[ann[i]] = ann[i+1]
		}
	}
	return d
}

func TestResolve(t *testing.T) {
	a := entry("a", ocispec.AnnotationRefName, "v1")
	b := entry("b", ocispec.AnnotationRefName, "v2", spec.AnnotationImageName, "example.com/b:v2")
	anon := entry("anon")
	for _, tc := range []struct {
		name    string
		idx     []ocispec.Descriptor
		tag     string
		want    []string // names
		wantErr error
	}{
		{"tag", []ocispec.Descriptor{a, b}, "v1", []string{"v1"}, nil},
		{"containerd name", []ocispec.Descriptor{a, b}, "v2", []string{"example.com/b:v2"}, nil},
		{"only entry", []ocispec.Descriptor{anon}, "", []string{""}, nil},
		{"all named", []ocispec.Descriptor{a, anon, b}, "", []string{"v1", "example.com/b:v2"}, nil},
		{"no such tag", []ocispec.Descriptor{a, b}, "v3", nil, spec.ErrNotFound},
		{"ambiguous", []ocispec.Descriptor{anon, entry("other")}, "", nil, spec.ErrBadInput},
		{"empty", nil, "", nil, spec.ErrNotFound},
	} {
		imgs, err := Resolve("oci:x", ocispec.Index{Manifests: tc.idx}, tc.tag)
		var got []string
		for _, img := range imgs {
			got = append(got, img.Name)
		}
		if !errors.Is(err, tc.wantErr) || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Resolve(%s) = %q, %v, want %q, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestEntry: the one naming rule. ref.name is the whole name, so that
// skopeo's oci:DIR:NAME finds it; a name that is only a tag stays a tag
// and gets no io.containerd.image.name.
func TestEntry(t *testing.T) {
	d := entry("x", ocispec.AnnotationRefName, "old", "keep", "me")
	pinned := "example.com/app@" + string(digest.FromString("x"))
	for _, tc := range []struct {
		name, wantRef, wantImage string
	}{
		{"example.com/app:1.0", "example.com/app:1.0", "example.com/app:1.0"},
		{"example.com:5000/team/app", "example.com:5000/team/app:latest", "example.com:5000/team/app:latest"},
		{pinned, pinned, pinned},
		{"v1", "v1", ""},
		{"", "", ""},
	} {
		e := Entry(runtime.Image{Name: tc.name, Desc: d})
		if e.Annotations[ocispec.AnnotationRefName] != tc.wantRef || e.Annotations[spec.AnnotationImageName] != tc.wantImage ||
			e.Annotations["keep"] != "me" {
			t.Errorf("Entry(%q) annotations = %v, want ref.name %q, image.name %q, keep=me", tc.name, e.Annotations, tc.wantRef, tc.wantImage)
		}
	}
}

// TestEntries: two images that one layout would name alike are refused,
// naming both; the same image twice is listed once; a tag names one
// image.
func TestEntries(t *testing.T) {
	a, b := entry("a"), entry("b")
	app := runtime.Image{Name: "fid/app:v1", Desc: a}
	db := runtime.Image{Name: "fid/db:v1", Desc: b}
	if got, err := Entries([]runtime.Image{app, db, app}, ""); err != nil || len(got) != 2 {
		t.Errorf("Entries(app, db, app) = %d entries, %v; want 2", len(got), err)
	}
	_, err := Entries([]runtime.Image{{Name: "v1", Desc: a}, {Name: "v1", Desc: b}}, "")
	if !errors.Is(err, spec.ErrBadInput) || strings.Count(err.Error(), "v1 (") != 2 {
		t.Errorf("Entries(two v1) = %v, want ErrBadInput naming both images", err)
	}
	_, err = Entries([]runtime.Image{{Name: "fid/app", Desc: a}, {Name: "fid/app:latest", Desc: b}}, "")
	if !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Entries(fid/app, fid/app:latest) = %v, want ErrBadInput", err)
	}
	got, err := Entries([]runtime.Image{app}, "mine")
	if err != nil || got[0].Annotations[ocispec.AnnotationRefName] != "mine" {
		t.Errorf("Entries(app, tag mine) = %v, %v", got, err)
	}
	if _, err := Entries([]runtime.Image{app, db}, "mine"); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Entries(two images, one tag) = %v, want ErrBadInput", err)
	}
}

func TestMerge(t *testing.T) {
	old := []ocispec.Descriptor{entry("a", ocispec.AnnotationRefName, "v1"), entry("b", ocispec.AnnotationRefName, "v2"), entry("c")}
	add := []ocispec.Descriptor{entry("d", ocispec.AnnotationRefName, "v1"), entry("c")}
	got := Merge(old, add)
	var names []string
	for _, d := range got {
		names = append(names, d.Annotations[ocispec.AnnotationRefName]+"="+string(d.Digest)[7:11])
	}
	want := []ocispec.Descriptor{old[1], add[0], add[1]}
	if len(got) != 3 {
		t.Fatalf("Merge = %v, want 3 entries", names)
	}
	for i := range want {
		if got[i].Digest != want[i].Digest {
			t.Errorf("Merge = %v, want v2, v1 replaced, c once", names)
		}
	}
}

// FuzzParseIndex: every digest of an index.json the parser accepts is
// valid (it becomes a file name), what it accepted has one encoding
// (encoding what parses from it gives it back), and Resolve only ever returns entries of the index,
// the one named with a tag.
func FuzzParseIndex(f *testing.F) {
	good, _ := EncodeIndex([]ocispec.Descriptor{entry("a", ocispec.AnnotationRefName, "v1")})
	f.Add(good)
	f.Add([]byte(`{"manifests":[{"digest":"sha256:../../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex("fuzz", data)
		if err != nil {
			return
		}
		listed := map[digest.Digest]bool{}
		for _, d := range idx.Manifests {
			if spec.ValidateDigest(d.Digest) != nil {
				t.Fatalf("ParseIndex accepted digest %q", d.Digest)
			}
			listed[d.Digest] = true
		}
		again, err := EncodeIndex(idx.Manifests)
		if err != nil {
			t.Fatalf("EncodeIndex(accepted) = %v", err)
		}
		back, err := ParseIndex("fuzz", again)
		if err != nil {
			t.Fatalf("ParseIndex(EncodeIndex(accepted)) = %v", err)
		}
		if twice, err := EncodeIndex(back.Manifests); err != nil || !bytes.Equal(twice, again) {
			t.Fatalf("an accepted index.json encodes to %s, and that to %s: want one form", again, twice)
		}
		for _, tag := range []string{"v1", ""} {
			imgs, err := Resolve("fuzz", idx, tag)
			for _, img := range imgs {
				if !listed[img.Desc.Digest] || (tag != "" && img.Desc.Annotations[ocispec.AnnotationRefName] != tag) {
					t.Fatalf("Resolve(%q) = %v, %v: an image not of the index, or not so named", tag, img, err)
				}
			}
		}
	})
}
