package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// open resolves ref and returns the source and its one image.
func open(t *testing.T, ref string, opts registry.Options) (*registry.Source, runtime.Image) {
	t.Helper()
	src, err := registry.FromReference(ref, opts)
	if err != nil {
		t.Fatalf("FromReference(%s) = %v", ref, err)
	}
	t.Cleanup(func() { src.Close() })
	imgs, err := src.Resolve(context.Background())
	if err != nil || len(imgs) != 1 {
		t.Fatalf("Resolve(%s) = %v, %v, want one image", ref, imgs, err)
	}
	return src, imgs[0]
}

func write(t testing.TB, base string, opts registry.Options, src runtime.Fetcher, imgs ...runtime.Image) {
	t.Helper()
	tgt, err := registry.NewTarget(base, opts)
	if err != nil {
		t.Fatalf("NewTarget(%s) = %v", base, err)
	}
	defer tgt.Close()
	if err := tgt.Write(context.Background(), imgs, src); err != nil {
		t.Fatalf("Write(%s) = %v", base, err)
	}
}

func skopeoDigest(t *testing.T, ref string) string {
	t.Helper()
	return digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+ref)).String()
}

func TestRoundTrip(t *testing.T) {
	a := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	b := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	want := pushUmoci(t, a.Host, "ns/app:1.0", 1, 2, 4096)
	src, img := open(t, a.Host+"/ns/app:1.0", fast)
	if img.Name != a.Host+"/ns/app:1.0" || img.Desc.Digest != want.Digest || img.Desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("Resolve = %+v, want %s named as given", img, want.Digest)
	}
	write(t, "docker://"+b.Host+"/site", fast, src, img)
	if got := skopeoDigest(t, b.Host+"/site/ns/app:1.0"); got != string(want.Digest) {
		t.Errorf("skopeo inspect --raw B/site/ns/app:1.0 digest = %s, want %s", got, want.Digest)
	}
	runtimetest.Skopeo(t, "copy", "--src-tls-verify=false", "docker://"+b.Host+"/site/ns/app:1.0",
		"oci:"+filepath.Join(t.TempDir(), "out")+":v")

	uploads, heads := count(t, b.LogPath, `"PATCH `), count(t, b.LogPath, `"HEAD /v2/site/ns/app/blobs/`)
	write(t, "docker://"+b.Host+"/site", fast, src, img) // again: the tag names the image already
	if n := count(t, b.LogPath, `"PATCH `); n != uploads {
		t.Errorf("writing the same image again uploaded %d blobs, want 0", n-uploads)
	}
	if n := count(t, b.LogPath, `"HEAD /v2/site/ns/app/blobs/`); n != heads {
		t.Errorf("writing the image its tag names already checked %d blobs, want none", n-heads)
	}
	write(t, "docker://"+b.Host+"/site", fast, src, runtime.Image{Name: "ns/app:1.1", Desc: img.Desc}) // a new tag: every blob checked once
	if n := count(t, b.LogPath, `"HEAD /v2/site/ns/app/blobs/`) - heads; n != 3 {
		t.Errorf("writing a held image under a new tag checked %d blobs, want its 3 (config, 2 layers), once each", n)
	}
	if n := count(t, b.LogPath, `"PATCH `); n != uploads {
		t.Errorf("writing a held image under a new tag uploaded %d blobs, want 0", n-uploads)
	}
	tgt, _ := registry.NewTarget("docker://"+b.Host+"/one", fast)
	write2(t, tgt, src, img)
	write2(t, tgt, src, runtime.Image{Name: "other/app:2", Desc: img.Desc})
	if count(t, b.LogPath, "mount=") == 0 || count(t, b.LogPath, `"PATCH `) != uploads*2 {
		t.Errorf("second repository of one Target: blobs not mounted from the first (log %s)", b.LogPath)
	}
}

func write2(t *testing.T, tgt *registry.Target, src runtime.Fetcher, img runtime.Image) {
	t.Helper()
	if err := tgt.Write(context.Background(), []runtime.Image{img}, src); err != nil {
		t.Fatalf("Write(%s) = %v", img.Name, err)
	}
}

// count counts the lines of file that contain s.
func count(t *testing.T, file, s string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

func TestTarget_ExactReference(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	want := pushUmoci(t, reg.Host, "in:1", 3, 1, 1000)
	src, img := open(t, reg.Host+"/in:1", fast)
	write(t, "docker://"+reg.Host+"/renamed/app:7", fast, src, img)
	if got := skopeoDigest(t, reg.Host+"/renamed/app:7"); got != string(want.Digest) {
		t.Errorf("digest of renamed/app:7 = %s, want %s", got, want.Digest)
	}
	tgt, err := registry.NewTarget("docker://"+reg.Host+"/renamed/app:7", fast)
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Write(context.Background(), []runtime.Image{img, img}, src); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Write(two images) to an exact reference = %v, want ErrBadInput", err)
	}
	layer := layers(t, src, img)[0]
	if ok, err := tgt.Exists(context.Background(), layer); !ok || err != nil {
		t.Errorf("Exists(%s) = %v, %v, want true", layer.Digest, ok, err)
	}
}

// layers returns the layers of the image manifest img.
func layers(t *testing.T, src runtime.Fetcher, img runtime.Image) []ocispec.Descriptor {
	t.Helper()
	var out []ocispec.Descriptor
	_, err := runtime.Walk(context.Background(), src, img, func(b runtime.Blob) error {
		if b.Role == runtime.RoleLayer {
			out = append(out, b.Desc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMirror(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	want := pushUmoci(t, reg.Host, "hub/library/alpine:3.20", 4, 1, 500)
	opts := fast
	opts.Mirrors = map[string]string{"docker.io": reg.Host + "/hub"}
	for _, ref := range []string{"docker.io/library/alpine:3.20", "alpine:3.20", "index.docker.io/library/alpine@" + string(want.Digest)} {
		_, img := open(t, ref, opts)
		if img.Name != ref || img.Desc.Digest != want.Digest {
			t.Errorf("Resolve(%s) through mirror = %s %s, want %s named as given", ref, img.Name, img.Desc.Digest, want.Digest)
		}
	}
}

func TestSource_Errors(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushUmoci(t, reg.Host, "ns/app:1.0", 5, 1, 500)
	gone := runtimetest.FreePort(t)
	for _, tc := range []struct {
		ref, want string
		is        error
	}{
		{reg.Host + "/nope/none:1", "not found", spec.ErrNotFound},
		{reg.Host + "/ns/app:2.0", "not found", spec.ErrNotFound},
		{gone + "/ns/app:1.0", "unreachable", nil},
	} {
		src, err := registry.FromReference(tc.ref, fast)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Resolve(context.Background())
		host, _, _ := strings.Cut(tc.ref, "/")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "registry "+host) ||
			!strings.Contains(err.Error(), "image "+tc.ref) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("Resolve(%s) = %v, want %q naming registry and image", tc.ref, err, tc.want)
		}
		// the refused connection is said once, though it was tried
		// over https and then http
		if tc.is == nil && err != nil && strings.Count(err.Error(), "connection refused") != 1 {
			t.Errorf("Resolve(%s) = %v, want the refused dial said once", tc.ref, err)
		}
		// not found says what the registry answered, once, without the
		// request's URL and details
		if tc.is != nil && err != nil && (strings.Count(err.Error(), "not found") != 1 || strings.Contains(err.Error(), "GET ") ||
			!strings.Contains(err.Error(), "UNKNOWN")) {
			t.Errorf("Resolve(%s) = %v, want not found said once with the registry's code", tc.ref, err)
		}
	}
	if _, err := registry.FromReference("Bad//Ref", fast); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("FromReference(Bad//Ref) = %v, want ErrBadInput", err)
	}
}

// copyToLayout writes the registry image through src into a new OCI
// layout and returns its directory.
func copyToLayout(src runtime.Source, img runtime.Image, dir string) error {
	return ocilayout.NewTarget(dir, "").Write(context.Background(), []runtime.Image{img}, src)
}

func mustOpen(t *testing.T, ref string) *registry.Source {
	t.Helper()
	src, _ := open(t, ref, fast)
	return src
}
