package format

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// validIndex is a completed index of a small fixture.
func validIndex(t *testing.T) *Index {
	_, s := testKey(t, 1)
	ix := newFixture(20, 10, 20).index()
	if _, err := completeIndex(ix, s, testTime); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestIndex_Validate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(ix *Index)
		wantIs  error
		wantErr string
	}{
		{"valid", func(ix *Index) {}, nil, ""},
		{"schemaVersion", func(ix *Index) { ix.SchemaVersion = 7 }, spec.ErrUnsupportedVersion, "schemaVersion 7"},
		{"mediaType", func(ix *Index) { ix.MediaType = "application/json" }, spec.ErrCorrupt, "mediaType"},
		{"created not UTC", func(ix *Index) { ix.Created = "2024-05-01T14:00:00+02:00" }, spec.ErrCorrupt, "created"},
		{"created fractional", func(ix *Index) { ix.Created = "2024-05-01T12:00:00.5Z" }, spec.ErrCorrupt, "created"},
		{"no id", func(ix *Index) { ix.ID = "" }, spec.ErrCorrupt, "id: empty"},
		{"no site", func(ix *Index) { ix.From.Site = "" }, spec.ErrCorrupt, "from.site: empty"},
		{"no fingerprint", func(ix *Index) { ix.From.Fingerprint = "MD5:x" }, spec.ErrCorrupt, "from.fingerprint"},
		{"bad digest", func(ix *Index) { ix.Blobs[0].Digest = "sha256:../../etc" }, spec.ErrBadInput, "blobs[0].digest: invalid digest"},
		{"sha512 digest", func(ix *Index) { ix.Blobs[0].Digest = digest.SHA512.FromString("x") }, spec.ErrCorrupt, "blobs[0].digest"},
		{"negative size", func(ix *Index) { ix.Blobs[1].Size = -1 }, spec.ErrCorrupt, "blobs[1].size"},
		{"duplicate blob", func(ix *Index) { ix.Blobs[1].Digest = ix.Blobs[0].Digest }, spec.ErrCorrupt, "listed twice"},
		{"bad status", func(ix *Index) { ix.Blobs[0].Status = "maybe" }, spec.ErrCorrupt, `blobs[0].status: "maybe" unknown`},
		{"unknown kind is valid", func(ix *Index) { ix.Blobs[0].Kind = "patch" }, nil, ""},
		{"image not a blob", func(ix *Index) { ix.Images[0].Digest = digest.FromString("x") }, spec.ErrCorrupt, "images[0].digest"},
		{"file name", func(ix *Index) { ix.Files[0].Name = "../oci-layout" }, spec.ErrCorrupt, "files[0].name"},
		{"file twice", func(ix *Index) { ix.Files[1] = ix.Files[0] }, spec.ErrCorrupt, "files[1].name: oci-layout listed twice"},
		{"file digest", func(ix *Index) { ix.Files[1].Digest = "md5:x" }, spec.ErrBadInput, "files[1].digest"},
		{"too many blobs", func(ix *Index) { ix.Blobs = make([]Blob, spec.MaxEntries+1) }, spec.ErrTooLarge, "blobs: 100001 blobs"},
		{"chart", func(ix *Index) { ix.Charts = []Chart{chartOf(ix, 0)} }, nil, ""},
		{"chart not a blob", func(ix *Index) {
			ix.Charts = []Chart{chartOf(ix, 0)}
			ix.Charts[0].Digest = digest.FromString("x")
		}, spec.ErrCorrupt, "charts[0].digest"},
		{"chart not a manifest", func(ix *Index) { ix.Charts = []Chart{chartOf(ix, 1)} }, spec.ErrCorrupt, "not an OCI manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := validIndex(t)
			tt.edit(ix)
			err := ix.Validate()
			if tt.wantIs == nil {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate = %v, want %v with %q", err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

// chartOf is a chart whose artifact is the index's blob i.
func chartOf(ix *Index, i int) Chart {
	return Chart{Name: "web", Version: "1.2.0+build.1", Digest: ix.Blobs[i].Digest, Size: ix.Blobs[i].Size,
		Images: []string{"docker.io/library/busybox:latest"}}
}

// TestParseIndex_RefusesCharts: a chart whose name, version or images
// ferry refuses costs that chart only, and is reported.
func TestParseIndex_RefusesCharts(t *testing.T) {
	for _, bad := range []func(c *Chart){
		func(c *Chart) { c.Name = "../web" },
		func(c *Chart) { c.Name = "Web" },
		func(c *Chart) { c.Version = "1.0/../x" },
		func(c *Chart) { c.Images = []string{"busybox\nforged line"} },
		func(c *Chart) { c.Images = []string{""} },
	} {
		ix := validIndex(t)
		good, refused := chartOf(ix, 0), chartOf(ix, 0)
		good.Name = "good"
		bad(&refused)
		ix.Charts = []Chart{good, refused}
		raw, err := Canonical(ix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseIndex(raw)
		if err != nil {
			t.Fatalf("ParseIndex of %+v = %v, want the chart refused, not the bundle", refused, err)
		}
		if len(got.Charts) != 1 || got.Charts[0].Name != "good" || len(got.Refused) != 1 || !spec.IsBadInput(got.Refused[0].Err) {
			t.Errorf("ParseIndex of %+v: charts %+v, refused %+v; want the good chart kept and the other refused", refused, got.Charts, got.Refused)
		}
		if roots := got.Roots(); len(roots) != 2 || roots[1].Name != "charts/good:1.2.0_build.1" || roots[1].MediaType != ocispec.MediaTypeImageManifest {
			t.Errorf("Roots = %+v, want the image then charts/good:1.2.0_build.1", roots)
		}
	}
}

func TestParseIndex(t *testing.T) {
	raw, err := Canonical(validIndex(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantIs  error
		wantErr string
	}{
		{"valid", raw, nil, ""},
		{"unknown field", append([]byte(`{"aaa":1,`), raw[1:]...), spec.ErrCorrupt, `unknown field "aaa"`},
		{"unknown field, newer version", bytes.Replace(append([]byte(`{"aaa":1,`), raw[1:]...), []byte(`"schemaVersion":1`), []byte(`"schemaVersion":3`), 1), spec.ErrUnsupportedVersion, "schemaVersion 3"},
		{"no version", bytes.Replace(raw, []byte(`"schemaVersion":1,`), nil, 1), spec.ErrCorrupt, "no schemaVersion"},
		{"huge version", bytes.Replace(raw, []byte(`"schemaVersion":1`), []byte(`"schemaVersion":123456789012345678901234567890`), 1), spec.ErrUnsupportedVersion, "schemaVersion 12345678901234567890…"},
		{"not canonical: spaces", append([]byte("{ "), raw[1:]...), spec.ErrCorrupt, "not canonical"},
		{"not canonical: newline", append(bytes.Clone(raw), '\n'), spec.ErrCorrupt, "not canonical"},
		{"trailing data", append(bytes.Clone(raw), []byte("{}")...), spec.ErrCorrupt, "data after the JSON value"},
		{"field name in another case", bytes.Replace(raw, []byte(`"digest"`), []byte(`"diGest"`), 1), spec.ErrCorrupt, "not canonical"},
		{"duplicate key", append([]byte(`{"id":"x",`), raw[1:]...), spec.ErrCorrupt, "not canonical"},
		{"not JSON", []byte("\x00\x01"), spec.ErrCorrupt, "invalid character"},
		{"too large", make([]byte, spec.MaxIndexSize+1), spec.ErrTooLarge, "4194305 bytes"},
		{"invalid", bytes.Replace(raw, []byte(`"status":"shipped"`), []byte(`"status":"lost"`), 1), spec.ErrCorrupt, `"lost" unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := ParseIndex(tt.data)
			if tt.wantIs == nil {
				if err != nil || ix == nil {
					t.Errorf("ParseIndex = %v, %v", ix, err)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseIndex = %v, want %v with %q", err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	v := map[string]any{"z": 1, "a": []any{"<b>&", 2.5}, "m": map[string]any{"y": true, "x": nil}}
	got, err := Canonical(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":["<b>&",2.5],"m":{"x":null,"y":true},"z":1}`
	if string(got) != want {
		t.Errorf("Canonical = %s, want %s", got, want)
	}
	ix := validIndex(t)
	a, _ := Canonical(ix)
	b, _ := Canonical(*ix)
	if !bytes.Equal(a, b) || bytes.Contains(a, []byte(" ")) {
		t.Errorf("Canonical(index) not stable or has spaces: %s", a)
	}
}

func TestOrder(t *testing.T) {
	blobs := []Blob{{Size: 30, Digest: "sha256:b"}, {Size: 10, Digest: "sha256:c"}, {Size: 30, Digest: "sha256:a"}, {Size: 5, Digest: "sha256:z"}}
	Order(blobs)
	var got []string
	for _, b := range blobs {
		got = append(got, string(b.Digest))
	}
	if want := []string{"sha256:z", "sha256:c", "sha256:a", "sha256:b"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}

func TestIndex_Shipped(t *testing.T) {
	ix := validIndex(t)
	got := ix.Shipped()
	if len(got) != 2 || slices.ContainsFunc(got, func(b Blob) bool { return b.Status != spec.StatusShipped }) {
		t.Errorf("Shipped = %v, want the 2 shipped blobs", got)
	}
}
