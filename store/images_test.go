package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// TestHome_TagRemove: a tag shares every blob; removing one name frees
// nothing while the other holds the blobs; removing both leaves exactly
// the image's blobs to GC, and a blob of another image is never among
// them.
func TestHome_TagRemove(t *testing.T) {
	h := newHome(t)
	ctx := context.Background()
	app, db := newTestImage(t, "app:1", 1), newTestImage(t, "db:1", 2)
	app.store(t, h)
	db.store(t, h)
	rec, replaced, err := h.Tag(ctx, "app:1", "registry.example/app:prod")
	if err != nil || rec.Digest != app.image.Desc.Digest || replaced.Name != "" {
		t.Fatalf("Tag = %+v, %+v, %v", rec, replaced, err)
	}
	if _, replaced, _ = h.Tag(ctx, "db:1", "registry.example/app:prod"); replaced.Digest != app.image.Desc.Digest {
		t.Errorf("Tag over an existing name: replaced = %+v, want the app image", replaced)
	}
	h.Tag(ctx, "app:1", "registry.example/app:prod")
	if _, err := h.Remove(ctx, []string{"app:1"}); err != nil {
		t.Fatal(err)
	}
	if res, _ := h.GC(ctx, true); len(res.Removed) != 0 {
		t.Errorf("after rm of one of two names, GC would remove %v, want nothing", res.Removed)
	}
	if _, err := h.Remove(ctx, []string{"registry.example/app:prod", "nosuch:1"}); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Remove with an absent name = %v, want ErrNotFound", err)
	}
	if _, err := h.Image("registry.example/app:prod"); err != nil {
		t.Errorf("a Remove that failed removed a name: %v", err)
	}
	if _, err := h.Remove(ctx, []string{"registry.example/app:prod"}); err != nil {
		t.Fatal(err)
	}
	var want []digest.Digest
	for _, d := range app.blobs {
		want = append(want, d.Digest)
	}
	slices.Sort(want)
	res, err := h.GC(ctx, false)
	if err != nil || !slices.Equal(res.Removed, want) {
		t.Errorf("GC = %v, %v, want exactly the app's blobs %v", res.Removed, err, want)
	}
	if probs, err := h.Check(ctx, true, nil); err != nil || len(probs) != 0 {
		t.Errorf("Check after tag, rm, gc = %v, %v", probs, err)
	}
	if _, err := h.Source("db:1"); err != nil {
		t.Errorf("db:1 after rm of app: %v", err)
	}
}
