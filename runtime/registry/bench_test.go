package registry_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// benchImages is the multi-image set: three images of two 8 MiB layers.
const benchImages, benchLayers, benchLayerBytes = 3, 2, 8 << 20

// benchLayout makes the set in an OCI layout (tags i0, i1, …) and its
// oci-archive per image, and returns the layout, the archives and the
// total bytes of the layers.
func benchLayout(b *testing.B) (string, []string, int64) {
	dir := filepath.Join(b.TempDir(), "oci")
	var archives []string
	for i := range benchImages {
		tag := fmt.Sprintf("i%d", i)
		runtimetest.UmociImage(b, dir, tag, int64(100+i), benchLayers, benchLayerBytes)
		a := filepath.Join(b.TempDir(), tag+".tar")
		runtimetest.Skopeo(b, "copy", "oci:"+dir+":"+tag, "oci-archive:"+a+":"+tag)
		archives = append(archives, a)
	}
	return dir, archives, benchImages * benchLayers * benchLayerBytes
}

// BenchmarkSave reads the set from a loopback registry into an OCI
// layout, against `skopeo copy docker://… oci-archive:…`.
func BenchmarkSave(b *testing.B) {
	dir, _, total := benchLayout(b)
	reg := runtimetest.StartRegistry(b, runtimetest.RegistryOptions{})
	for i := range benchImages {
		tag := fmt.Sprintf("i%d", i)
		runtimetest.Skopeo(b, "copy", "--dest-tls-verify=false", "oci:"+dir+":"+tag, "docker://"+reg.Host+"/bench/"+tag+":1")
	}
	b.Run("ferry", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			out := filepath.Join(b.TempDir(), "out")
			for i := range benchImages {
				src, err := registry.FromReference(fmt.Sprintf("%s/bench/i%d:1", reg.Host, i), registry.Options{})
				if err != nil {
					b.Fatal(err)
				}
				imgs, err := src.Resolve(context.Background())
				if err == nil {
					err = ocilayout.NewTarget(out, "").Write(context.Background(), imgs, src)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("skopeo", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			out := b.TempDir()
			for i := range benchImages {
				runtimetest.Skopeo(b, "copy", "--src-tls-verify=false", fmt.Sprintf("docker://%s/bench/i%d:1", reg.Host, i),
					fmt.Sprintf("oci-archive:%s/i%d.tar", out, i))
			}
		}
	})
}

// BenchmarkLoad writes the set into an empty registry (a new one each
// time), from an OCI layout, against `skopeo copy oci-archive:… docker://…`.
func BenchmarkLoad(b *testing.B) {
	dir, archives, total := benchLayout(b)
	lay, err := ocilayout.FromPath(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	imgs, err := lay.Resolve(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ferry", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			b.StopTimer()
			reg := runtimetest.StartRegistry(b, runtimetest.RegistryOptions{})
			b.StartTimer()
			write(b, "docker://"+reg.Host+"/bench", registry.Options{}, lay, named(imgs)...)
		}
	})
	b.Run("skopeo", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			b.StopTimer()
			reg := runtimetest.StartRegistry(b, runtimetest.RegistryOptions{})
			b.StartTimer()
			for i, a := range archives {
				runtimetest.Skopeo(b, "copy", "--dest-tls-verify=false", "oci-archive:"+a,
					fmt.Sprintf("docker://%s/bench/i%d:latest", reg.Host, i))
			}
		}
	})
}

// named gives the layout's images (named by tag) repository names.
func named(imgs []runtime.Image) []runtime.Image {
	out := make([]runtime.Image, len(imgs))
	for i, img := range imgs {
		out[i] = runtime.Image{Name: img.Name + ":latest", Desc: img.Desc}
	}
	return out
}
