package podman_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/podman"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestConformance(t *testing.T) {
	runtimetest.NeedTool(t, "podman")
	runtimetest.RunSkipping(t, "podman", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			short := runtimetest.ShortTempDir(t)
			opts := podman.Options{Root: filepath.Join(short, "graph"), RunRoot: filepath.Join(short, "run"),
				StorageDriver: "vfs", TmpDir: t.TempDir()}
			tgt, err := podman.NewTarget(opts)
			if err != nil {
				t.Fatal(err)
			}
			return tgt, func() (runtime.Source, error) { return podman.Open("", opts) }
		},
	}, map[string]string{
		"RoundTrip": "podman stores layers uncompressed, so the fixture's gzip layers come back with new " +
			"digests; TestTarget_RoundTrip checks names, config digests and DiffIDs instead",
	})
}

// TestTarget_RoundTrip: images ferry loads are listed by podman with
// their names, and read back with the same config (the image ID) and
// their layers as podman keeps them, uncompressed: each layer's digest is
// its DiffID, and its media type says it is a plain tar (podman's own
// manifest says gzip), so umoci unpacks it. Every blob verifies, and two
// reads give the same manifest.
func TestTarget_RoundTrip(t *testing.T) {
	p := runtimetest.NewPodman(t)
	ctx := context.Background()
	in := filepath.Join(t.TempDir(), "in")
	runtimetest.UmociImage(t, in, "v1", 21, 2, 3000)
	runtimetest.UmociImage(t, in, "v2", 22, 1, 2000)
	lay, err := ocilayout.FromPath(in, "")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := lay.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imgs[0].Name, imgs[1].Name = "example.com/ferry/app:v1", "example.com/ferry/db:v2"
	tgt, err := podman.NewTarget(podman.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Write(ctx, imgs, lay); err != nil {
		t.Fatalf("Write = %v", err)
	}
	listed := strings.Fields(string(p.Run(t, "images", "--format", "{{.Repository}}:{{.Tag}}")))
	slices.Sort(listed)
	if want := []string{"example.com/ferry/app:v1", "example.com/ferry/db:v2"}; !slices.Equal(listed, want) {
		t.Errorf("podman images = %v, want %v", listed, want)
	}
	var first digest.Digest
	for range 2 {
		src, err := podman.Open("example.com/ferry/app:v1", podman.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := src.Resolve(ctx)
		if err != nil || len(got) != 1 || got[0].Name != "example.com/ferry/app:v1" {
			t.Fatalf("Resolve = %v, %v, want example.com/ferry/app:v1", got, err)
		}
		want, have := runtimetest.Manifest(t, lay, imgs[0].Desc), runtimetest.Manifest(t, src, got[0].Desc)
		if have.Config.Digest != want.Config.Digest {
			t.Errorf("config = %s, want %s", have.Config.Digest, want.Config.Digest)
		}
		var layers []digest.Digest
		for _, l := range have.Layers {
			layers = append(layers, l.Digest)
			// podman labels them tar+gzip; the bytes are a plain tar.
			if l.MediaType != ocispec.MediaTypeImageLayer {
				t.Errorf("layer %s typed %s, want %s: its bytes are uncompressed", l.Digest, l.MediaType, ocispec.MediaTypeImageLayer)
			}
		}
		if ids := runtimetest.Config(t, lay, *want.Config).DiffIDs(); !slices.Equal(layers, ids) {
			t.Errorf("layers = %v, want the DiffIDs %v", layers, ids)
		}
		out := filepath.Join(t.TempDir(), "out")
		if err := ocilayout.NewTarget(out, "").Write(ctx, got, src); err != nil {
			t.Fatalf("podman -> oci: %v", err)
		}
		if first == "" {
			first = got[0].Desc.Digest
		} else if got[0].Desc.Digest != first {
			t.Errorf("second read manifest %s, first %s: not deterministic", got[0].Desc.Digest, first)
		}
		src.Close()
		runtimetest.Skopeo(t, "inspect", "oci:"+out+":example.com/ferry/app:v1")
		runtimetest.Umoci(t, "unpack", "--rootless", "--image", out+":example.com/ferry/app:v1", filepath.Join(t.TempDir(), "bundle"))
	}
}

// TestSource_KeepsDigest: an image whose layers podman holds as they
// came (uncompressed) keeps its manifest digest through ferry, also when
// named by its short name.
func TestSource_KeepsDigest(t *testing.T) {
	p := runtimetest.NewPodman(t)
	ctx := context.Background()
	dir := t.TempDir()
	in, plain, out := filepath.Join(dir, "in"), filepath.Join(dir, "plain"), filepath.Join(dir, "out")
	runtimetest.UmociImage(t, in, "v1", 23, 2, 3000)
	p.Import(t, in, "v1", "example.com/gz:v1")
	copyFrom(t, "example.com/gz:v1", plain)       // uncompressed layers
	p.Import(t, plain, "v1", "localhost/app:1.0") // the original
	want := runtimetest.SkopeoDigest(t, "oci:"+plain+":v1")
	imgs := copyFrom(t, "app:1.0", out)
	if len(imgs) != 1 || imgs[0].Name != "localhost/app:1.0" {
		t.Errorf("Resolve(app:1.0) = %v, want localhost/app:1.0", imgs)
	}
	if got := runtimetest.SkopeoDigest(t, "oci:"+out+":localhost/app:1.0"); got != want {
		t.Errorf("podman -> oci digest = %s, want %s", got, want)
	}
	names, err := podman.List(ctx, podman.Options{})
	if want := []string{"example.com/gz:v1", "localhost/app:1.0"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("List = %v, %v, want %v", names, err, want)
	}
}

// copyFrom writes podman:ref to oci:out, its ref.name "v1" or the tag of
// ref, and checks that Close removes the export.
func copyFrom(t *testing.T, ref, out string) []runtime.Image {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	src, err := podman.Open(ref, podman.Options{TmpDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := src.Resolve(ctx)
	if err != nil {
		t.Fatalf("Resolve(%s) = %v", ref, err)
	}
	tag := ""
	if len(imgs) == 1 && !strings.HasSuffix(ref, ":1.0") {
		tag = "v1"
	}
	if err := ocilayout.NewTarget(out, tag).Write(ctx, imgs, src); err != nil {
		t.Fatalf("podman:%s -> oci: %v", ref, err)
	}
	src.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Close left %d files in TmpDir", len(left))
	}
	return imgs
}

func TestSource_NotFound(t *testing.T) {
	p := runtimetest.NewPodman(t)
	src, err := podman.Open("example.com/none:1", podman.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.Resolve(context.Background())
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "example.com/none:1") ||
		!strings.Contains(err.Error(), p.Conf) {
		t.Errorf("Resolve(absent) = %v, want ErrNotFound naming the image and storage", err)
	}
	if _, err := podman.Open("-x", podman.Options{}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Open(-x) = %v, want ErrBadInput", err)
	}
}
