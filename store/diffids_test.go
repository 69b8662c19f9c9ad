package store

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

func TestCatalog_BlobByDiffID(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	gz, zst, plain, late := blob("gz"), blob("zst"), blob("plain"), blob("late")
	diff, diffLate := blob("tar"), blob("late-tar")
	steps := [][]BlobRecord{
		{{Digest: gz, Size: 1, DiffID: diff}, {Digest: plain, Size: 1}, {Digest: late, Size: 1}},
		{{Digest: zst, Size: 1, DiffID: diff}},      // same layer, other compression: the first keeps it
		{{Digest: late, Size: 1, DiffID: diffLate}}, // the DiffID learnt after the blob
	}
	for _, blobs := range steps {
		if err := c.Record(ctx, blobs, nil, nil); err != nil {
			t.Fatalf("Record = %v", err)
		}
	}
	tests := []struct {
		diffID  digest.Digest
		want    digest.Digest
		wantErr error
	}{
		{diff, gz, nil},
		{diffLate, late, nil},
		{blob("unknown"), "", spec.ErrNotFound},
		{"sha256:short", "", spec.ErrBadInput},
	}
	for _, tt := range tests {
		got, err := c.BlobByDiffID(tt.diffID)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("BlobByDiffID(%s) = %s, %v, want %s, %v", tt.diffID, got, err, tt.want, tt.wantErr)
		}
	}
	if r, _ := c.Blob(late); r.DiffID != diffLate {
		t.Errorf("Blob(late).DiffID = %s, want %s", r.DiffID, diffLate)
	}
	if err := c.DeleteBlobs([]digest.Digest{gz}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BlobByDiffID(diff); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("BlobByDiffID after its blob was deleted = %v, want ErrNotFound", err)
	}
	c.Record(ctx, []BlobRecord{{Digest: zst, Size: 1, DiffID: diff}}, nil, nil)
	if got, err := c.BlobByDiffID(diff); got != zst || err != nil {
		t.Errorf("BlobByDiffID after re-recording the other compression = %s, %v, want %s", got, err, zst)
	}
}
