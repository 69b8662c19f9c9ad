package delta

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// benchLayers is an application layer of 200 files (81 MB as Go's gzip
// writes it) and its next version with 5 files edited, one added and one
// removed (3%), both in files in dir, with a sender's and a site's store
// holding the first. It takes a minute.
func benchLayers(dir string) (*benchFixture, error) {
	var err error
	base := deltatest.App(1, 200, 860000)
	fx := &benchFixture{dir: dir}
	for name, tree := range map[string]deltatest.Tree{"base": base, "next": base.Next(2, 5, 1, 1)} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		err = tree.Layer(f, deltatest.GoGzip, t1)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	fx.sender, fx.sendDir = openStore(filepath.Join(dir, "sender"))
	fx.site, fx.siteDir = openStore(filepath.Join(dir, "site"))
	for _, s := range []*store.Store{fx.sender, fx.site} {
		if fx.base, err = ingestFile(s, filepath.Join(dir, "base")); err != nil {
			return nil, err
		}
	}
	fx.next, err = describeFile(filepath.Join(dir, "next"))
	return fx, err
}

type benchFixture struct {
	dir              string
	sender, site     *store.Store
	sendDir, siteDir string
	base, next       ocispec.Descriptor
}

func describeFile(p string) (ocispec.Descriptor, error) {
	f, err := os.Open(p)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	fi, _ := f.Stat()
	d, err := digestOf(f)
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: fi.Size()}, err
}

func ingestFile(s *store.Store, p string) (ocispec.Descriptor, error) {
	desc, err := describeFile(p)
	if err != nil {
		return desc, err
	}
	f, err := os.Open(p)
	if err != nil {
		return desc, err
	}
	defer f.Close()
	_, err = s.Ingest(context.Background(), desc, f)
	return desc, err
}

// BenchmarkDelta reports, for the 81 MB layer: the delta's size as a share
// of the layer (goal: at most 5%), the time to build and prove it, to
// apply it at the site, and, as the baseline, to ingest the layer whole.
// Peak memory: testdata/deltabench under /usr/bin/time -v.
func BenchmarkDelta(b *testing.B) {
	fx, err := benchLayers(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	next, err := os.Open(filepath.Join(fx.dir, "next"))
	if err != nil {
		b.Fatal(err)
	}
	defer next.Close()
	var d bytes.Buffer
	var res *Result
	b.Run("build", func(b *testing.B) {
		b.SetBytes(fx.next.Size)
		for b.Loop() {
			d.Reset()
			res, err = Build(context.Background(), &d, Layer{Desc: fx.next, Blob: next}, []ocispec.Descriptor{fx.base}, fx.sender, Options{Scratch: fx.sendDir})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(100*float64(d.Len())/float64(fx.next.Size), "delta-%")
		b.ReportMetric(float64(d.Len()), "delta-bytes")
	})
	if res == nil {
		return
	}
	b.Run("apply", func(b *testing.B) {
		b.SetBytes(fx.next.Size)
		for b.Loop() {
			fx.site.Delete(fx.next.Digest)
			in := Input{Blob: fx.next, Delta: res.Delta, Bases: []ocispec.Descriptor{fx.base}, Store: fx.site, Scratch: fx.siteDir}
			rc := Open(context.Background(), bytes.NewReader(d.Bytes()), in)
			_, err := fx.site.Ingest(context.Background(), fx.next, rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(fx.next.Size)
		for b.Loop() {
			fx.site.Delete(fx.next.Digest)
			if _, err := next.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if _, err := fx.site.Ingest(context.Background(), fx.next, next); err != nil {
				b.Fatal(err)
			}
		}
	})
}
