package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	h, err := Init(dir, "plant-7")
	if err != nil {
		t.Fatalf("Init = %v", err)
	}
	if self, err := h.Catalog.Self(); self != "plant-7" || err != nil {
		t.Errorf("Self = %q, %v", self, err)
	}
	if fi, err := os.Stat(filepath.Dir(h.KeyPath())); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if h.PubKeyPath() != filepath.Join(dir, "keys", "id_ed25519.pub") {
		t.Errorf("PubKeyPath = %s", h.PubKeyPath())
	}
	h.Close()
	if _, err := Init(dir, "other"); !errors.Is(err, spec.ErrExists) {
		t.Errorf("Init(again) = %v, want ErrExists", err)
	}
	if _, err := Init(t.TempDir(), "bad name"); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Init(bad name) = %v, want ErrBadInput", err)
	}
}

func TestOpenHome(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenHome(dir); !errors.Is(err, spec.ErrNotFound) ||
		!strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "ferry init --site NAME") {
		t.Errorf("OpenHome(empty) = %v, want ErrNotFound naming the dir and ferry init", err)
	}
	h, err := Init(dir, "hq")
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	h, err = OpenHome(dir)
	if err != nil {
		t.Fatalf("OpenHome = %v", err)
	}
	h.Close()
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if got := DefaultDir(); got != "/data/ferry" {
		t.Errorf("DefaultDir = %s, want /data/ferry", got)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got := DefaultDir(); got != "/home/u/.local/share/ferry" {
		t.Errorf("DefaultDir = %s, want /home/u/.local/share/ferry", got)
	}
}

func TestHome_GC(t *testing.T) {
	h := newHome(t)
	ctx := context.Background()
	app, db := newTestImage(t, "app:1", 1), newTestImage(t, "db:1", 2)
	app.store(t, h)
	db.store(t, h)
	orphan := runtimetest.RandomBytes(9, 50)
	ingest(t, h.Store, descOf("", orphan), orphan) // on disk only
	ghost := BlobRecord{Digest: digest.FromString("ghost"), Size: 5}
	h.Catalog.Record(ctx, []BlobRecord{ghost}, nil, nil) // in the catalog only
	if err := h.Catalog.DeleteImage("db:1"); err != nil {
		t.Fatal(err)
	}
	var want []digest.Digest
	var wantBytes int64 = 50 + 5
	for _, d := range db.blobs {
		want = append(want, d.Digest)
		wantBytes += d.Size
	}
	want = append(want, digest.FromBytes(orphan), ghost.Digest)
	slices.Sort(want)

	dry, err := h.GC(ctx, true)
	if err != nil || !slices.Equal(dry.Removed, want) || dry.Bytes != wantBytes {
		t.Fatalf("GC(dry run) = %+v, %v, want %v, %d bytes", dry, err, want, wantBytes)
	}
	if _, err := h.Store.Stat(want[0]); err != nil {
		t.Errorf("GC(dry run) removed %s: %v", want[0], err)
	}
	res, err := h.GC(ctx, false)
	if err != nil || !slices.Equal(res.Removed, want) {
		t.Fatalf("GC = %+v, %v, want %v", res, err, want)
	}
	for _, d := range want {
		if _, err := h.Store.Stat(d); !errors.Is(err, spec.ErrNotFound) {
			t.Errorf("after GC, %s on disk (%v)", d, err)
		}
		if _, err := h.Catalog.Blob(d); !errors.Is(err, spec.ErrNotFound) {
			t.Errorf("after GC, %s in the catalog (%v)", d, err)
		}
	}
	if problems, err := h.Check(ctx, true, nil); err != nil || len(problems) != 0 {
		t.Errorf("Check after GC = %v, %v; want no problems", problems, err)
	}
}

func TestHome_Check(t *testing.T) {
	h := newHome(t)
	ctx := context.Background()
	app := newTestImage(t, "app:1", 1)
	app.store(t, h)
	layer, config := app.blobs[0].Digest, app.blobs[1].Digest
	orphan := runtimetest.RandomBytes(9, 50)
	ingest(t, h.Store, descOf("", orphan), orphan)
	h.Store.Delete(config)
	flipByte(t, h.Store, layer, 20)
	sized := BlobRecord{Digest: digest.FromString("sized"), Size: 12}
	h.Catalog.Record(ctx, []BlobRecord{sized}, nil, nil)
	os.WriteFile(filepath.Join(h.Store.shaDir(), sized.Digest.Encoded()), make([]byte, 10), 0o444)

	want := []Problem{
		{Digest: digest.FromBytes(orphan), Kind: ProblemUnreferenced, What: "on disk but not in catalog: unreferenced, harmless; ferry gc removes it"},
		{Digest: sized.Digest, Kind: ProblemDamaged, What: "size on disk 10, catalog 12"},
		{Digest: config, Kind: ProblemMissing, What: "in catalog but not on disk"},
		{Digest: config, Image: "app:1", Kind: ProblemImage, What: "image app:1 lacks blob " + string(config)},
	}
	problems, err := h.Check(ctx, false, nil)
	if err != nil || !sameProblems(problems, want) {
		t.Errorf("Check = %v, %v\nwant %v", problems, err, want)
	}
	var done, total int64
	problems, err = h.Check(ctx, true, func(d, t int64) { done, total = d, t })
	flipped := 0
	for _, p := range problems {
		if p.Digest == layer && strings.HasPrefix(p.What, "digest mismatch: got sha256:") {
			flipped++
		}
	}
	if err != nil || flipped != 1 || len(problems) != len(want)+1 {
		t.Errorf("Check(readData) = %v, %v; want the flipped layer %s reported too", problems, err, layer)
	}
	if wantTotal := app.blobs[0].Size + app.blobs[2].Size; done != wantTotal || total != wantTotal {
		t.Errorf("Check progress = %d/%d, want %d/%d", done, total, wantTotal, wantTotal)
	}
}

func sameProblems(got, want []Problem) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func TestHome_DiskUsage(t *testing.T) {
	h := newHome(t)
	app, db := newTestImage(t, "app:1", 1), newTestImage(t, "db:1", 2)
	app.store(t, h)
	db.store(t, h)
	// app:2 shares app:1's blobs.
	shared := ImageRecord{Name: "app:2", Digest: app.image.Desc.Digest, Blobs: []digest.Digest{app.blobs[0].Digest, app.blobs[2].Digest}}
	if err := h.Catalog.Record(context.Background(), nil, []ImageRecord{shared}, nil); err != nil {
		t.Fatal(err)
	}
	total, per, unique, err := h.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	sum := func(ds ...int64) (n int64) {
		for _, d := range ds {
			n += d
		}
		return n
	}
	a, d := app.blobs, db.blobs
	if want := sum(a[0].Size, a[1].Size, a[2].Size, d[0].Size, d[1].Size, d[2].Size); total != want {
		t.Errorf("DiskUsage total = %d, want %d", total, want)
	}
	if per["app:1"] != sum(a[0].Size, a[1].Size, a[2].Size) || unique["app:1"] != a[1].Size {
		t.Errorf("DiskUsage app:1 = %d (unique %d)", per["app:1"], unique["app:1"])
	}
	if unique["app:2"] != 0 || unique["db:1"] != per["db:1"] {
		t.Errorf("DiskUsage unique = %v, per image %v", unique, per)
	}
}

func TestHome_SyncIndex(t *testing.T) {
	h := newHome(t)
	app := newTestImage(t, "app:1", 1)
	app.store(t, h)
	if err := h.SyncIndex(); err != nil {
		t.Fatalf("SyncIndex = %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(h.Store.Dir(), "index.json"))
	if !strings.Contains(string(data), string(app.image.Desc.Digest)) {
		t.Errorf("index.json = %s, lacks %s", data, app.image.Desc.Digest)
	}
}
