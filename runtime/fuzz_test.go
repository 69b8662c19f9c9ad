package runtime_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

func FuzzChildren(f *testing.F) {
	g := newGraph()
	for _, b := range g.m.blobs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kids, err := runtime.Children("", data)
		if err != nil {
			return
		}
		for _, k := range kids {
			if spec.ValidateDigest(k.Digest) != nil {
				t.Fatalf("Children returned an invalid digest %q", k.Digest)
			}
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
