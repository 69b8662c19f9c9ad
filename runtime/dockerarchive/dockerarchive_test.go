package dockerarchive_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t, "dockerarchive", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			file := filepath.Join(dir, "out.tar")
			return dockerarchive.NewTarget(file, ""), func() (runtime.Source, error) { return dockerarchive.FromPath(file, "") }
		},
	})
}

// umoci makes one image in a fresh layout and returns the layout and the image.
func umoci(t *testing.T, seed int64) (string, runtime.Image) {
	dir := filepath.Join(t.TempDir(), "in")
	desc := runtimetest.UmociImage(t, dir, "v1", seed, 2, 1200)
	return dir, runtime.Image{Name: "app:1.0", Desc: desc}
}

func TestTarget_SkopeoReads(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	in, img := umoci(t, 11)
	dir := t.TempDir()
	file := filepath.Join(dir, "out.tar")
	err := dockerarchive.NewTarget(file, "").Write(context.Background(), []runtime.Image{img}, runtimetest.DirFetcher(in))
	if err != nil {
		t.Fatal(err)
	}
	runtimetest.Skopeo(t, "inspect", "docker-archive:"+file)
	a, err := dockerarchive.FromPath(file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	imgs, err := a.Resolve(context.Background())
	if err != nil || len(imgs) != 1 || imgs[0].Name != "app:1.0" || imgs[0].Desc.Digest != img.Desc.Digest {
		t.Errorf("Resolve after Write = %v, %v, want app:1.0@%s", imgs, err, img.Desc.Digest)
	}
	// io.containerd.image.name as Docker 25 writes it; ref.name by
	// ferry's one rule, the whole name.
	if ann := imgs[0].Desc.Annotations; ann[spec.AnnotationImageName] != "docker.io/library/app:1.0" ||
		ann[ocispec.AnnotationRefName] != "docker.io/library/app:1.0" {
		t.Errorf("index.json annotations = %v, want both docker.io/library/app:1.0", ann)
	}
	runtimetest.Skopeo(t, "copy", "docker-archive:"+file, "oci:"+filepath.Join(dir, "copy")+":v1")
	runtimetest.Skopeo(t, "copy", "docker-archive:"+file+":app:1.0", "oci:"+filepath.Join(dir, "copy")+":v2")
}

// TestFromPath_SkopeoLegacy reads the legacy archive skopeo writes: the
// image ID is the source's config digest, and the manifest ferry makes
// for it is an OCI manifest, the same on every read, whose uncompressed
// layers are typed as such, so that skopeo's oci:DIR:NAME and umoci read
// it from a layout.
func TestFromPath_SkopeoLegacy(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	runtimetest.NeedTool(t, "umoci")
	in, img := umoci(t, 12)
	dir := t.TempDir()
	file := filepath.Join(dir, "legacy.tar")
	runtimetest.Skopeo(t, "copy", "oci:"+in+":v1", "docker-archive:"+file+":app:1.0")
	a, err := dockerarchive.FromPath(file, "app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	imgs, err := a.Resolve(context.Background())
	if err != nil || len(imgs) != 1 || imgs[0].Name != "app:1.0" || imgs[0].Desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("Resolve = %v, %v, want one image app:1.0 with an OCI manifest", imgs, err)
	}
	src, got := runtimetest.Manifest(t, runtimetest.DirFetcher(in), img.Desc), runtimetest.Manifest(t, a, imgs[0].Desc)
	if got.Config.Digest != src.Config.Digest || got.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("config = %s %s, want the image ID %s as an OCI config", got.Config.MediaType, got.Config.Digest, src.Config.Digest)
	}
	for _, l := range got.Layers {
		if l.MediaType != ocispec.MediaTypeImageLayer {
			t.Errorf("layer %s: media type %s, want %s", l.Digest, l.MediaType, ocispec.MediaTypeImageLayer)
		}
	}
	again, err := dockerarchive.FromPath(file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if imgs2, _ := again.Resolve(context.Background()); len(imgs2) != 1 || imgs2[0].Desc.Digest != imgs[0].Desc.Digest {
		t.Errorf("second read = %v, want manifest %s again", imgs2, imgs[0].Desc.Digest)
	}
	out := filepath.Join(dir, "out")
	if err := ocilayout.NewTarget(out, "").Write(context.Background(), imgs, a); err != nil {
		t.Fatal(err)
	}
	if d := runtimetest.SkopeoDigest(t, "oci:"+out+":app:1.0"); d != imgs[0].Desc.Digest {
		t.Errorf("skopeo inspect oci:OUT:app:1.0 = %s, want %s", d, imgs[0].Desc.Digest)
	}
	runtimetest.Umoci(t, "unpack", "--rootless", "--image", out+":app:1.0", filepath.Join(dir, "bundle"))
	if err := dockerarchive.NewTarget(filepath.Join(dir, "again.tar"), "").Write(context.Background(), imgs, a); err != nil {
		t.Errorf("Write of a legacy image = %v", err)
	}
}

// TestFromPath_Docker25 reads an archive shaped as Docker 25 writes it
// (an OCI layout and manifest.json in one tar) and keeps the manifest
// digest.
func TestFromPath_Docker25(t *testing.T) {
	in, img := umoci(t, 13)
	file := filepath.Join(t.TempDir(), "d25.tar")
	writeDocker25(t, in, img, file)
	for _, ref := range []string{"", "app:1.0", "docker.io/library/app:1.0"} {
		a, err := dockerarchive.FromPath(file, ref)
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := a.Resolve(context.Background())
		a.Close()
		if err != nil || len(imgs) != 1 || imgs[0].Desc.Digest != img.Desc.Digest || imgs[0].Name != "app:1.0" {
			t.Errorf("FromPath(%q).Resolve = %v, %v, want app:1.0@%s", ref, imgs, err, img.Desc.Digest)
		}
	}
	if _, err := dockerarchive.FromPath(file, "other:1"); !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "app:1.0") {
		t.Errorf("FromPath(other:1) = %v, want ErrNotFound listing app:1.0", err)
	}
}

func writeDocker25(t *testing.T, layout string, img runtime.Image, file string) {
	m := runtimetest.Manifest(t, runtimetest.DirFetcher(layout), img.Desc)
	item := dockerarchive.ManifestItem{Config: "blobs/sha256/" + m.Config.Digest.Encoded(), RepoTags: []string{"app:1.0"}}
	for _, l := range m.Layers {
		item.Layers = append(item.Layers, "blobs/sha256/"+l.Digest.Encoded())
	}
	desc := img.Desc
	desc.Annotations = map[string]string{spec.AnnotationImageName: "docker.io/library/app:1.0", ocispec.AnnotationRefName: "1.0"}
	index, _ := json.Marshal(ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{desc}})
	manifest, _ := json.Marshal([]dockerarchive.ManifestItem{item})
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, Typeflag: tar.TypeDir})
	ents, _ := os.ReadDir(filepath.Join(layout, "blobs", "sha256"))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(layout, "blobs", "sha256", e.Name()))
		add("blobs/sha256/"+e.Name(), b)
	}
	add("index.json", index)
	add("manifest.json", manifest)
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTarget_Index: an index is written as its host platform
// manifest, and an index without one is refused naming the platforms.
func TestTarget_Index(t *testing.T) {
	in, img := umoci(t, 14)
	other := img.Desc
	other.Platform = &ocispec.Platform{OS: "linux", Architecture: "s390x"}
	host := img.Desc
	engine := runtime.EnginePlatform()
	host.Platform = &engine
	ctx := context.Background()
	for _, tc := range []struct {
		kids    []ocispec.Descriptor
		wantErr bool
	}{{[]ocispec.Descriptor{other, host}, false}, {[]ocispec.Descriptor{other}, true}} {
		b, _ := json.Marshal(ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: tc.kids})
		d := digest.FromBytes(b)
		src := runtimetest.With(runtimetest.DirFetcher(in), map[digest.Digest][]byte{d: b})
		root := runtime.Image{Name: "multi:1", Desc: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: d, Size: int64(len(b))}}
		file := filepath.Join(t.TempDir(), "out.tar")
		err := dockerarchive.NewTarget(file, "").Write(ctx, []runtime.Image{root}, src)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "linux/s390x") || !strings.Contains(err.Error(), "multi:1") {
				t.Errorf("Write(index without host) = %v, want an error naming the image and platforms", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		a, err := dockerarchive.FromPath(file, "")
		if err != nil {
			t.Fatal(err)
		}
		imgs, _ := a.Resolve(ctx)
		a.Close()
		if len(imgs) != 1 || imgs[0].Desc.Digest != img.Desc.Digest {
			t.Errorf("Resolve = %v, want the host manifest %s", imgs, img.Desc.Digest)
		}
	}
}

// TestFromPath_LegacyGzip reads a legacy archive whose layers are gzip
// files reached through <id>/layer.tar symlinks: the synthetic manifest
// names them by their file digests, as the OCI manifest did.
func TestFromPath_LegacyGzip(t *testing.T) {
	in, img := umoci(t, 15)
	m := runtimetest.Manifest(t, runtimetest.DirFetcher(in), img.Desc)
	item := dockerarchive.ManifestItem{Config: m.Config.Digest.Encoded() + ".json", RepoTags: []string{"docker.io/library/app:1.0", "app:2"}}
	file := filepath.Join(t.TempDir(), "legacy.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	add := func(name string, d digest.Digest) {
		b, _ := os.ReadFile(filepath.Join(in, "blobs", "sha256", d.Encoded()))
		tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add(item.Config, m.Config.Digest)
	for i, l := range m.Layers {
		id := fmt.Sprintf("%064d", i)
		add(l.Digest.Encoded()+".tar", l.Digest)
		tw.WriteHeader(&tar.Header{Name: id + "/layer.tar", Linkname: "../" + l.Digest.Encoded() + ".tar", Typeflag: tar.TypeSymlink})
		item.Layers = append(item.Layers, id+"/layer.tar")
	}
	mj, _ := json.Marshal([]dockerarchive.ManifestItem{item})
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Size: int64(len(mj)), Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(mj)
	tw.Close()
	f.Close()

	a, err := dockerarchive.FromPath(file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	imgs, err := a.Resolve(context.Background())
	if err != nil || len(imgs) != 2 || imgs[0].Name != "app:1.0" || imgs[1].Name != "app:2" {
		t.Fatalf("Resolve = %v, %v, want app:1.0 and app:2", imgs, err)
	}
	got := runtimetest.Manifest(t, a, imgs[0].Desc)
	for i, l := range got.Layers {
		if l.Digest != m.Layers[i].Digest || l.MediaType != ocispec.MediaTypeImageLayerGzip || l.Size != m.Layers[i].Size {
			t.Errorf("layer %d = %+v, want %s %s", i, l, ocispec.MediaTypeImageLayerGzip, m.Layers[i].Digest)
		}
	}
	b, _ := runtime.ReadBlob(context.Background(), a, imgs[0].Desc, spec.MaxManifestSize)
	if !strings.HasPrefix(string(b), `{"schemaVersion":2,"mediaType":"`+ocispec.MediaTypeImageManifest+`","config":{"mediaType":"`+ocispec.MediaTypeImageConfig+`"`) {
		t.Errorf("synthetic manifest = %s", b)
	}
}
