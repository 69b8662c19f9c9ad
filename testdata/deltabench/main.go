// Command deltabench measures store/delta on a large layer, one side per
// process so that /usr/bin/time -v reports each side's peak RSS:
//
//	go run ./testdata/deltabench gen   -dir D [-files 200] [-avg 819200] [-changed 5] [-z go-gzip]
//	go run ./testdata/deltabench build -dir D [-no-patches]   # sender: delta.bin, delta.json
//	go run ./testdata/deltabench apply -dir D                 # site: rebuilds into D/site
//	go run ./testdata/deltabench whole -dir D                 # baseline: ingest the layer whole
//	go run ./testdata/deltabench layout -dir D                # D/oci: images v1 (base) and v2 (next), for trip.sh
//
// gen writes base.blob and next.blob (a version with -changed files
// edited, one added, one removed) and the uncompressed base.tar and
// next.tar for zstd --patch-from.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: deltabench gen|build|apply|whole|layout -dir DIR")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "working directory")
	files := fs.Int("files", 200, "files in the layer")
	avg := fs.Int64("avg", 800<<10, "average file size")
	changed := fs.Int("changed", 5, "files edited in the next version")
	kind := fs.String("z", deltatest.GoGzip, "compression: "+deltatest.GoGzip+", "+deltatest.KlauspostGzip+", "+deltatest.Zstd+", "+deltatest.None)
	noPatches := fs.Bool("no-patches", false, "build without patches (copies and literals only)")
	fs.Parse(os.Args[2:])
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "deltabench: -dir is required")
		os.Exit(2)
	}
	var err error
	start := time.Now()
	switch os.Args[1] {
	case "gen":
		err = gen(*dir, *files, *avg, *changed, *kind)
	case "build":
		err = build(*dir, *noPatches)
	case "apply":
		err = apply(*dir)
	case "whole":
		err = whole(*dir)
	case "layout":
		err = layout(*dir)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deltabench:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %.2fs\n", os.Args[1], time.Since(start).Seconds())
}

func gen(dir string, files int, avg int64, changed int, kind string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	base := deltatest.App(1, files, avg)
	next := base.Next(2, changed, 1, 1)
	for name, tr := range map[string]deltatest.Tree{"base": base, "next": next} {
		if err := writeFile(filepath.Join(dir, name+".blob"), func(w io.Writer) error { return tr.Layer(w, kind, t1) }); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, name+".tar"), func(w io.Writer) error { return tr.WriteTar(w, t1) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, fill func(io.Writer) error) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// open returns a store in dir/name holding the blob file p.
func open(dir, name, p string) (*store.Store, ocispec.Descriptor, error) {
	b, err := store.Open(filepath.Join(dir, name, "store"), filepath.Join(dir, name, "tmp"))
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, err := describe(p)
	if err != nil {
		return nil, desc, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, desc, err
	}
	defer f.Close()
	_, err = b.Ingest(context.Background(), desc, f)
	return b, desc, err
}

func describe(p string) (ocispec.Descriptor, error) {
	f, err := os.Open(p)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	d, err := digest.SHA256.FromReader(f)
	fi, _ := f.Stat()
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: fi.Size()}, err
}

func build(dir string, noPatches bool) error {
	sender, baseDesc, err := open(dir, "sender", filepath.Join(dir, "base.blob"))
	if err != nil {
		return err
	}
	next, err := os.Open(filepath.Join(dir, "next.blob"))
	if err != nil {
		return err
	}
	defer next.Close()
	nextDesc, err := describe(next.Name())
	if err != nil {
		return err
	}
	scratch := filepath.Join(dir, "sender", "tmp")
	out, err := os.Create(filepath.Join(dir, "delta.bin"))
	if err != nil {
		return err
	}
	defer out.Close()
	start := time.Now()
	res, err := delta.Build(context.Background(), out, delta.Layer{Desc: nextDesc, Blob: next},
		[]ocispec.Descriptor{baseDesc}, sender, delta.Options{Scratch: scratch, NoPatches: noPatches})
	if err != nil {
		return err
	}
	fmt.Printf("layer %d bytes, delta %d bytes (%.2f%%), build %.2fs, stats %+v\n", nextDesc.Size, res.Delta.Size,
		100*float64(res.Delta.Size)/float64(nextDesc.Size), time.Since(start).Seconds(), res.Stats)
	b, _ := json.Marshal(struct {
		Layer ocispec.Descriptor
		Delta spec.Delta
	}{nextDesc, res.Delta})
	return os.WriteFile(filepath.Join(dir, "delta.json"), b, 0o644)
}

func apply(dir string) error {
	site, baseDesc, err := open(dir, "site", filepath.Join(dir, "base.blob"))
	if err != nil {
		return err
	}
	var plan struct {
		Layer ocispec.Descriptor
		Delta spec.Delta
	}
	b, err := os.ReadFile(filepath.Join(dir, "delta.json"))
	if err != nil || json.Unmarshal(b, &plan) != nil {
		return fmt.Errorf("delta.json: run build first (%v)", err)
	}
	f, err := os.Open(filepath.Join(dir, "delta.bin"))
	if err != nil {
		return err
	}
	defer f.Close()
	site.Delete(plan.Layer.Digest)
	start := time.Now()
	in := delta.Input{Blob: plan.Layer, Delta: plan.Delta, Bases: []ocispec.Descriptor{baseDesc}, Store: site,
		Scratch: filepath.Join(dir, "site", "tmp")}
	rc := delta.Open(context.Background(), f, in)
	defer rc.Close()
	if _, err := site.Ingest(context.Background(), plan.Layer, rc); err != nil {
		return err
	}
	fmt.Printf("apply: rebuilt %s (%d bytes) in %.2fs\n", plan.Layer.Digest, plan.Layer.Size, time.Since(start).Seconds())
	return nil
}

// whole is the baseline: the layer ingested as it is, as a bundle ships
// it today.
func whole(dir string) error {
	start := time.Now()
	b, err := store.Open(filepath.Join(dir, "whole", "store"), filepath.Join(dir, "whole", "tmp"))
	if err != nil {
		return err
	}
	p := filepath.Join(dir, "next.blob")
	desc, err := describe(p)
	if err != nil {
		return err
	}
	b.Delete(desc.Digest)
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := b.Ingest(context.Background(), desc, f); err != nil {
		return err
	}
	fmt.Printf("whole: ingested %d bytes in %.2fs\n", desc.Size, time.Since(start).Seconds())
	return nil
}
