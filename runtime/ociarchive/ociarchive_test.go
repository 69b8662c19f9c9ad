package ociarchive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t, "ociarchive", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			file := filepath.Join(dir, "out.tar")
			return ociarchive.NewTarget(file, ""), func() (runtime.Source, error) { return ociarchive.FromPath(file, "") }
		},
	})
}

// toArchive writes every image of oci:layout[:tag] to oci-archive:file[:totag].
func toArchive(t *testing.T, layout, tag, file, totag string) {
	t.Helper()
	ctx := context.Background()
	src, err := ocilayout.FromPath(layout, tag)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := src.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociarchive.NewTarget(file, totag).Write(ctx, imgs, src); err != nil {
		t.Fatalf("Write(%s) = %v", file, err)
	}
}

func TestTarget_SkopeoReads(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	dir := t.TempDir()
	in, file := filepath.Join(dir, "in"), filepath.Join(dir, "out.tar")
	runtimetest.UmociImage(t, in, "v1", 3, 2, 1500)
	toArchive(t, in, "v1", file, "")
	runtimetest.Skopeo(t, "inspect", "oci-archive:"+file+":v1")
	runtimetest.Skopeo(t, "copy", "oci-archive:"+file+":v1", "oci:"+filepath.Join(dir, "copy")+":v1")
}

// TestRoundTrip_KeepsDigest: oci -> oci-archive -> oci keeps the manifest
// digest that skopeo sees.
func TestRoundTrip_KeepsDigest(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	ctx := context.Background()
	dir := t.TempDir()
	in, file, out := filepath.Join(dir, "in"), filepath.Join(dir, "a.tar"), filepath.Join(dir, "out")
	runtimetest.UmociImage(t, in, "v1", 4, 3, 1000)
	toArchive(t, in, "v1", file, "")
	src, err := ociarchive.FromPath(file, "v1")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	imgs, err := src.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocilayout.NewTarget(out, "").Write(ctx, imgs, src); err != nil {
		t.Fatal(err)
	}
	want := runtimetest.SkopeoDigest(t, "oci:"+in+":v1")
	if got := runtimetest.SkopeoDigest(t, "oci:"+out+":v1"); got != want {
		t.Errorf("digest after oci -> oci-archive -> oci = %s, want %s", got, want)
	}
}

// TestTarget_Deterministic: two writes of the same images (made in
// memory, so that no tool is needed) give the same bytes.
func TestTarget_Deterministic(t *testing.T) {
	dir := t.TempDir()
	blobs := runtimetest.Blobs{}
	imgs := []runtime.Image{{Name: "v1", Desc: runtimetest.RandomImage(blobs, 5, 2, 700)}}
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	for _, file := range []string{a, b} {
		if err := ociarchive.NewTarget(file, "").Write(context.Background(), imgs, blobs); err != nil {
			t.Fatalf("Write(%s) = %v", file, err)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Fatal("two writes of the same images differ")
	}
	tr := tar.NewReader(bytes.NewReader(ab))
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
		if !h.ModTime.Equal(h.ModTime.Truncate(0)) || h.ModTime.Unix() != 0 {
			t.Errorf("%s: mtime %v, want 0", h.Name, h.ModTime)
		}
	}
	if len(names) < 4 || names[0] != "oci-layout" || names[1] != "index.json" {
		t.Errorf("members = %v, want oci-layout, index.json first", names)
	}
}

func TestFromPath_NotAnArchive(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "../../etc/passwd", Size: 1, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	os.WriteFile(file, buf.Bytes(), 0o644)
	if _, err := ociarchive.FromPath(file, ""); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("FromPath(tar without a layout) = %v, want ErrBadInput", err)
	}
}
