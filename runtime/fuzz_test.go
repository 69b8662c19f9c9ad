package runtime_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// FuzzChildren: every child of a document the parser accepts has a valid
// digest (it becomes a file name); a document NodeMediaType accepts is a
// manifest (with a config, its first child) or an index, typed as its own
// mediaType field says when it has one.
func FuzzChildren(f *testing.F) {
	g := newGraph()
	for _, b := range g.m.blobs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kids, err := runtime.Children("", data)
		if err == nil {
			for _, k := range kids {
				if spec.ValidateDigest(k.Digest) != nil {
					t.Fatalf("Children returned an invalid digest %q", k.Digest)
				}
			}
		}
		mt, err := runtime.NodeMediaType(ocispec.Descriptor{}, data)
		if err != nil {
			return
		}
		if !spec.IsManifest(mt) && !spec.IsIndex(mt) {
			t.Fatalf("NodeMediaType = %q, neither manifest nor index", mt)
		}
		var own struct{ MediaType string }
		if json.Unmarshal(data, &own); own.MediaType != mt {
			t.Fatalf("NodeMediaType = %q, the document says %q", mt, own.MediaType)
		}
		if kids, err := runtime.Children(mt, data); err == nil && spec.IsManifest(mt) && len(kids) == 0 {
			t.Fatalf("a manifest NodeMediaType accepts has no config")
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"oci:/x:v1", "docker-archive:/a.tar:example.com:5000/app:1.0", "app", "docker://x/y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := runtime.Parse(s)
		if err != nil {
			return
		}
		if transport, _, _ := strings.Cut(r.Tag, ":"); r.Transport == runtime.TransportStore && slices.Contains(transports, transport) {
			return // a bare name that reads as a transport (documented)
		}
		r2, err := runtime.Parse(r.String())
		if err != nil || r2 != r {
			t.Fatalf("Parse(%q).String() = %q parses to %+v, %v", s, r.String(), r2, err)
		}
	})
}

var transports = []string{runtime.TransportOCI, runtime.TransportOCIArchive, runtime.TransportDockerArchive,
	runtime.TransportDockerDaemon, runtime.TransportContainerd, runtime.TransportPodman}
