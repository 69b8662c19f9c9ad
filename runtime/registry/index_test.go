package registry_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// pushIndex builds, in an OCI layout, an image index of two umoci images
// as linux/amd64 and linux/arm64, pushes it with `skopeo copy --all` to
// docker://HOST/REPO:TAG and returns the index's and the arm64
// manifest's descriptors.
func pushIndex(t *testing.T, host, repoTag string) (index, arm ocispec.Descriptor) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	amd := runtimetest.UmociImage(t, dir, "amd", 11, 1, 1000)
	arm = runtimetest.UmociImage(t, dir, "arm", 12, 2, 1000)
	amd.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	amd.Annotations, arm.Annotations = nil, nil
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd, arm}}
	idx.SchemaVersion = 2
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	index = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", index.Digest.Encoded()), data, 0o644); err != nil {
		t.Fatal(err)
	}
	top := index
	top.Annotations = map[string]string{ocispec.AnnotationRefName: "multi"}
	layout, _ := json.Marshal(ocispec.Index{Versioned: idx.Versioned, Manifests: []ocispec.Descriptor{top}})
	if err := os.WriteFile(filepath.Join(dir, spec.LayoutIndexEntry), layout, 0o644); err != nil {
		t.Fatal(err)
	}
	runtimetest.Skopeo(t, "copy", "--all", "--dest-tls-verify=false", "oci:"+dir+":multi", "docker://"+host+"/"+repoTag)
	return index, arm
}

func TestIndex_RoundTrip(t *testing.T) {
	a := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	b := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	index, arm := pushIndex(t, a.Host, "multi:1")
	src, img := open(t, a.Host+"/multi:1", fast)
	if img.Desc.Digest != index.Digest || img.Desc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("Resolve = %+v, want the index %s", img.Desc, index.Digest)
	}
	write(t, "docker://"+b.Host+"/all", fast, src, img)
	if got := skopeoDigest(t, b.Host+"/all/multi:1"); got != string(index.Digest) {
		t.Errorf("index digest in B = %s, want %s", got, index.Digest)
	}
	runtimetest.Skopeo(t, "copy", "--all", "--src-tls-verify=false", "docker://"+b.Host+"/all/multi:1",
		"oci:"+filepath.Join(t.TempDir(), "out")+":v")

	one, err := runtime.SelectPlatforms(context.Background(), src, img, []string{"linux/arm64"})
	if err != nil || one.Desc.Digest != arm.Digest {
		t.Fatalf("SelectPlatforms(linux/arm64) = %v, %v, want the arm64 manifest", one.Desc.Digest, err)
	}
	write(t, "docker://"+b.Host+"/arm", fast, src, one)
	if got := skopeoDigest(t, b.Host+"/arm/multi:1"); got != string(arm.Digest) {
		t.Errorf("--platform linux/arm64 digest in B = %s, want %s", got, arm.Digest)
	}
}
