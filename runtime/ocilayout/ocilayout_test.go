package ocilayout_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t, "ocilayout", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			out := filepath.Join(dir, "out")
			return ocilayout.NewTarget(out, ""), func() (runtime.Source, error) { return ocilayout.FromPath(out, "") }
		},
	})
}

// copyLayout copies every image of oci:from[:tag] to oci:to[:totag].
func copyLayout(t *testing.T, from, tag, to, totag string) []runtime.Image {
	t.Helper()
	ctx := context.Background()
	src, err := ocilayout.FromPath(from, tag)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	imgs, err := src.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocilayout.NewTarget(to, totag).Write(ctx, imgs, src); err != nil {
		t.Fatalf("Write(%s) = %v", to, err)
	}
	return imgs
}

func TestLayoutTarget_SkopeoReads(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	runtimetest.UmociImage(t, in, "v1", 7, 2, 1500)
	copyLayout(t, in, "v1", out, "")
	want := runtimetest.SkopeoDigest(t, "oci:"+in+":v1")
	if got := runtimetest.SkopeoDigest(t, "oci:"+out+":v1"); got != want {
		t.Errorf("skopeo inspect oci:OUT:v1 digest = %s, want %s", got, want)
	}
	runtimetest.Skopeo(t, "inspect", "oci:"+out+":v1")
	runtimetest.Skopeo(t, "copy", "oci:"+out+":v1", "oci:"+filepath.Join(dir, "copy")+":v1")
}

func TestLayoutTarget_TagAndMerge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	runtimetest.UmociImage(t, in, "a", 1, 1, 500)
	runtimetest.UmociImage(t, in, "b", 2, 1, 500)
	copyLayout(t, in, "a", out, "x")
	copyLayout(t, in, "b", out, "y")
	copyLayout(t, in, "b", out, "x") // replaces x
	src, err := ocilayout.FromPath(out, "")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := src.Resolve(ctx)
	if err != nil || len(imgs) != 2 {
		t.Fatalf("Resolve = %v, %v, want 2 images", imgs, err)
	}
	for _, img := range imgs {
		if img.Name != img.Desc.Annotations["org.opencontainers.image.ref.name"] || img.Desc.Digest != imgs[0].Desc.Digest {
			t.Errorf("image %s named %q, want x and y, both image b", img.Desc.Digest, img.Name)
		}
	}
	if _, err := ocilayout.FromPath(filepath.Join(dir, "none"), ""); err == nil {
		t.Error("FromPath(missing dir) = nil error")
	}
}
