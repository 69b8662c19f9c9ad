package shipment

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

const example = `apiVersion: ferry/v1
kind: Shipment
images:
  - docker.io/library/busybox:1.36
charts:
  - chart: cert-manager
    repo: https://charts.jetstack.io
    version: v1.21.1
    values: [values/cert-manager.yaml]
    set: ["crds.enabled=true"]
    skipImages: [quay.io/jetstack/cert-manager-startupapicheck:v1.21.1]
  - chart: ./charts/web
    values: [/abs/web.yaml]
    setString: ["image.tag=1.2"]
    kubeVersion: 1.31.0
    addImages: [docker.io/library/redis:7.2]
  - chart: oci://registry.example.com/charts/db
    version: ">=2 <3"
    includeTests: true
    releaseName: db
    namespace: data
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(example), "/srv/ship")
	if err != nil {
		t.Fatal(err)
	}
	want := &File{APIVersion: APIVersion, Kind: Kind, Images: []string{"docker.io/library/busybox:1.36"}, Charts: []Chart{
		{Chart: "cert-manager", Repo: "https://charts.jetstack.io", Version: "v1.21.1", Values: []string{"/srv/ship/values/cert-manager.yaml"},
			Set: []string{"crds.enabled=true"}, SkipImages: []string{"quay.io/jetstack/cert-manager-startupapicheck:v1.21.1"}},
		{Chart: filepath.Join("/srv/ship", "charts/web"), Values: []string{"/abs/web.yaml"}, SetString: []string{"image.tag=1.2"},
			KubeVersion: "1.31.0", AddImages: []string{"docker.io/library/redis:7.2"}},
		{Chart: "oci://registry.example.com/charts/db", Version: ">=2 <3", IncludeTests: true, ReleaseName: "db", Namespace: "data"},
	}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", f, want)
	}
}

// TestParse_Refuses: every fault names its line (or field) and is bad
// input; an unknown version names the version.
func TestParse_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
		is         error
	}{
		{"unknown field", "apiVersion: ferry/v1\nkind: Shipment\ncharts:\n  - chart: web\n    valuesFile: x.yaml\n",
			[]string{"line 5", "valuesFile"}, spec.ErrBadInput},
		{"unknown top field", "apiVersion: ferry/v1\nkind: Shipment\nimages: [a]\nchart: web\n", []string{"line 4", "chart"}, spec.ErrBadInput},
		{"wrong type", "apiVersion: ferry/v1\nkind: Shipment\ncharts:\n  - chart: web\n    set: crds.enabled=true\n",
			[]string{"line 5"}, spec.ErrBadInput},
		{"duplicate key", "apiVersion: ferry/v1\nkind: Shipment\nimages: [a]\nimages: [b]\n", []string{"line 4", "already defined"}, spec.ErrBadInput},
		{"newer version", "apiVersion: ferry/v2\nkind: Shipment\nimages: [a]\n", []string{`"ferry/v2"`, "ferry/v1"}, spec.ErrUnsupportedVersion},
		{"no version", "images: [a]\n", []string{`apiVersion ""`}, spec.ErrUnsupportedVersion},
		{"other kind", "apiVersion: ferry/v1\nkind: Bundle\nimages: [a]\n", []string{"Bundle"}, spec.ErrBadInput},
		{"chart without a chart", "apiVersion: ferry/v1\nkind: Shipment\ncharts:\n  - version: 1.0.0\n", []string{"charts[0]", "no chart"}, spec.ErrBadInput},
		{"empty", "apiVersion: ferry/v1\nkind: Shipment\n", []string{"no images and no charts"}, spec.ErrBadInput},
		{"two documents", "apiVersion: ferry/v1\nkind: Shipment\nimages: [a]\n---\nimages: [b]\n", []string{"line 4", "second document"}, spec.ErrBadInput},
		{"not YAML", "apiVersion: ferry/v1\nkind: [\n", []string{"line"}, spec.ErrBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), "")
			if !errors.Is(err, tc.is) {
				t.Fatalf("Parse = %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

// FuzzParse: no input makes Parse panic, and what it accepts names at
// least one image or chart.
func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("apiVersion: ferry/v1\nkind: Shipment\nimages: [a]\n"))
	f.Add([]byte("apiVersion: ferry/v1\nkind: Shipment\ncharts: [{chart: x, set: [a=b]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "/d")
		if err == nil && len(s.Images) == 0 && len(s.Charts) == 0 {
			t.Errorf("Parse accepted a file with nothing to ship: %q", data)
		}
	})
}
