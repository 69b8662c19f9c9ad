package podman_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/podman"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// write writes the image tagged tag of the layout dir into podman as
// name and returns what the Write sent.
func write(t *testing.T, tgt *podman.Target, dir, tag, name string) runtime.WriteStats {
	t.Helper()
	lay, err := ocilayout.FromPath(dir, tag)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := lay.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	imgs[0].Name = name
	if err := tgt.Write(context.Background(), imgs, lay); err != nil {
		t.Fatalf("Write(%s) = %v", name, err)
	}
	return tgt.LastWrite()
}

// mounted returns the files under data/ of podman's image ref.
func mounted(t *testing.T, p *runtimetest.Podman, ref string) []string {
	t.Helper()
	root := strings.TrimSpace(string(p.Run(t, "image", "mount", ref)))
	defer p.Run(t, "image", "unmount", ref)
	var names []string
	entries, _ := os.ReadDir(filepath.Join(root, "data"))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestTarget_SendsOnlyMissingLayers: the second release, whose first
// layer podman holds since the first, is handed to podman without it,
// and podman has the whole image: both layers' files are in it.
func TestTarget_SendsOnlyMissingLayers(t *testing.T) {
	p := runtimetest.NewPodman(t)
	dir := filepath.Join(t.TempDir(), "in")
	runtimetest.UmociChain(t, dir, 2, 64<<10, 31)
	tgt, err := podman.NewTarget(podman.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := write(t, tgt, dir, "v1", "example.com/inc/app:1"); len(st.Omitted) != 0 {
		t.Errorf("first write left out %v, want nothing", st.Omitted)
	}
	st := write(t, tgt, dir, "v2", "example.com/inc/app:2")
	if len(st.Omitted) != 1 || st.Retried {
		t.Fatalf("second write = %+v, want the held layer left out, no retry", st)
	}
	if st.Bytes > 64<<10+16<<10 {
		t.Errorf("second write handed podman %d bytes, want about one 64 KiB layer", st.Bytes)
	}
	if got := mounted(t, p, "example.com/inc/app:2"); strings.Join(got, ",") != "v1-0,v2" {
		t.Errorf("podman's image holds %v, want v1-0 and v2", got)
	}
}

// TestTarget_RetriesWhole: podman holds a layer's DiffID but not under
// the blob digest it is given (the same tar compressed another way), so
// it cannot load the archive without it; Write then sends the whole
// archive and says so.
func TestTarget_RetriesWhole(t *testing.T) {
	p := runtimetest.NewPodman(t)
	dir := filepath.Join(t.TempDir(), "in")
	runtimetest.UmociImage(t, dir, "v1", 32, 1, 4096)
	p.Import(t, dir, "v1", "example.com/inc/orig:1")
	other := filepath.Join(t.TempDir(), "other")
	regzip(t, dir, "v1", other)
	tgt, err := podman.NewTarget(podman.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := write(t, tgt, other, "v1", "example.com/inc/regzip:1")
	if len(st.Omitted) != 0 || !st.Retried {
		t.Errorf("write = %+v, want a retry with every layer", st)
	}
	if got := mounted(t, p, "example.com/inc/regzip:1"); strings.Join(got, ",") != "v1-0" {
		t.Errorf("podman's image holds %v, want v1-0", got)
	}
}

// regzip writes to the layout out the image tagged tag of dir with each
// layer compressed anew (a gzip header no tool has seen) and a config
// with one label more: the same DiffIDs under blob digests podman cannot
// know.
func regzip(t *testing.T, dir, tag, out string) {
	t.Helper()
	src := runtimetest.DirFetcher(dir)
	var idx ocispec.Index
	readFile(t, filepath.Join(dir, "index.json"), &idx)
	var m ocispec.Manifest
	for _, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == tag {
			readBlob(t, src, d, &m)
		}
	}
	var config map[string]any
	readBlob(t, src, m.Config, &config)
	config["config"].(map[string]any)["Labels"] = map[string]string{"regzip": time.Now().String()}
	m.Config = putJSON(t, out, m.Config.MediaType, config)
	for i, l := range m.Layers {
		rc, err := src.Fetch(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Comment = t.Name() + " " + time.Now().String()
		if _, err := io.Copy(zw, zr); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		rc.Close()
		m.Layers[i] = put(t, out, l.MediaType, buf.Bytes())
	}
	md := putJSON(t, out, ocispec.MediaTypeImageManifest, m)
	md.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	b, _ := json.Marshal(ocispec.Index{Versioned: idx.Versioned, Manifests: []ocispec.Descriptor{md}})
	writeFile(t, filepath.Join(out, "index.json"), b)
	writeFile(t, filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))
}

func put(t *testing.T, dir, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	writeFile(t, filepath.Join(dir, "blobs", "sha256", d.Encoded()), b)
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

func putJSON(t *testing.T, dir, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return put(t, dir, mediaType, b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func readBlob(t *testing.T, f runtime.Fetcher, d ocispec.Descriptor, v any) {
	t.Helper()
	rc, err := f.Fetch(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		t.Fatal(err)
	}
}
