package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestStore_IngestRepairs: a blob the store holds damaged (bit rot, an
// edit of the same size, a cut or a grown file) is replaced by the
// verified bytes of the next ingest of it, which says Repaired; an intact
// one is kept (Held). Before, any file of the right size was "already
// held" and the good bytes were thrown away.
func TestStore_IngestRepairs(t *testing.T) {
	data := runtimetest.RandomBytes(3, 3<<20) // more than one read buffer
	for _, tc := range []struct {
		name   string
		damage func(p string)
		want   Ingested
	}{
		{"intact", func(string) {}, Held},
		{"a flipped byte", func(p string) { rewrite(t, p, func(b []byte) []byte { b[2<<20] ^= 1; return b }) }, Repaired},
		{"the last byte", func(p string) { rewrite(t, p, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }) }, Repaired},
		{"cut short", func(p string) { rewrite(t, p, func(b []byte) []byte { return b[:len(b)-7] }) }, Repaired},
		{"grown", func(p string) { rewrite(t, p, func(b []byte) []byte { return append(b, 'x') }) }, Repaired},
		{"emptied", func(p string) { rewrite(t, p, func(b []byte) []byte { return nil }) }, Repaired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newStore(t)
			desc := descOf("", data)
			ingest(t, b, desc, data)
			p, _ := b.path(desc.Digest)
			tc.damage(p)
			got, err := b.Ingest(context.Background(), desc, bytes.NewReader(data))
			if err != nil || got != tc.want {
				t.Errorf("Ingest over the store's copy = %v, %v; want %v", got, err, tc.want)
			}
			if err := b.Verify(desc.Digest); err != nil {
				t.Errorf("after Ingest the store's copy is %v", err)
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o444 {
				t.Errorf("the repaired file has mode %v, want read-only", st.Mode())
			}
		})
	}
	t.Run("bad bytes never replace", func(t *testing.T) {
		b := newStore(t)
		desc := descOf("", data)
		ingest(t, b, desc, data)
		p, _ := b.path(desc.Digest)
		rewrite(t, p, func(b []byte) []byte { b[9] ^= 1; return b })
		bad := bytes.Clone(data)
		bad[1<<20] ^= 1
		if _, err := b.Ingest(context.Background(), desc, bytes.NewReader(bad)); !errors.Is(err, spec.ErrDigestMismatch) {
			t.Errorf("Ingest(bad bytes over a damaged copy) = %v, want ErrDigestMismatch", err)
		}
		if got, _ := os.ReadFile(p); got[9] == data[9] || got[1<<20] != data[1<<20] {
			t.Errorf("bad bytes changed the stored file")
		}
		if left, _ := os.ReadDir(b.tmp); len(left) != 0 {
			t.Errorf("a refused repair left %d temp files", len(left))
		}
	})
}

// rewrite replaces a read-only file's bytes with edit's, as bit rot or a
// careless edit would.
func rewrite(t *testing.T, p string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, edit(b), 0o444); err != nil {
		t.Fatal(err)
	}
}

// TestStore_BlobFile: a store hands a target (for a hard link) only a
// file verified since it was last written: one it ingested and that is
// unchanged, or one it hashes on the spot. A damaged file is refused,
// saying how to repair, whether another process damaged it or it was
// edited after this one verified it.
func TestStore_BlobFile(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(4, 5000)
	desc := descOf("", data)
	ingest(t, b, desc, data)
	if _, err := b.BlobFile(desc.Digest); err != nil {
		t.Fatalf("BlobFile(ingested) = %v", err)
	}
	p, _ := b.path(desc.Digest)
	rewrite(t, p, func(b []byte) []byte { b[0] ^= 1; return b })
	later := time.Now().Add(time.Hour) // an edit moves the mtime
	os.Chtimes(p, later, later)
	var ve *spec.VerifyError
	if _, err := b.BlobFile(desc.Digest); !errors.As(err, &ve) || !strings.Contains(err.Error(), "--repair") {
		t.Errorf("BlobFile(edited since ingest) = %v, want a VerifyError naming the repair", err)
	}
	fresh, err := Open(b.dir, b.tmp) // another process: it verified nothing yet
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.BlobFile(desc.Digest); !errors.As(err, &ve) {
		t.Errorf("BlobFile(damaged, new process) = %v, want a VerifyError", err)
	}
}

// TestHome_Repair: check --read-data --repair removes each damaged or
// missing blob, with its record, and every image that needs one, and
// leaves the rest; check is then clean.
func TestHome_Repair(t *testing.T) {
	h := newHome(t)
	ctx := context.Background()
	app, db := newTestImage(t, "app:1", 1), newTestImage(t, "db:1", 2)
	app.store(t, h)
	db.store(t, h)
	orphan := runtimetest.RandomBytes(9, 50)
	ingest(t, h.Store, descOf("", orphan), orphan)
	layer := app.blobs[0].Digest
	flipByte(t, h.Store, layer, 20)
	problems, err := h.Check(ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Repair(ctx, problems)
	if err != nil || !slices.Equal(res.Blobs, []digest.Digest{layer}) || !slices.Equal(res.Images, []string{"app:1"}) {
		t.Errorf("Repair = %+v, %v; want layer %s and app:1 removed", res, err, layer)
	}
	problems, err = h.Check(ctx, true, nil)
	for _, p := range problems {
		if !p.Harmless() {
			t.Errorf("Check after Repair = %v", p)
		}
	}
	if err != nil || len(problems) == 0 {
		t.Errorf("Check after Repair = %v, %v; want only the orphan, unreferenced (gc's to remove)", problems, err)
	}
	if imgs, _ := h.Catalog.Images(); len(imgs) != 1 || imgs[0].Name != "db:1" {
		t.Errorf("after Repair the images are %v, want db:1", imgs)
	}
}
