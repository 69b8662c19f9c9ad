package trip

import (
	"context"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/store"
)

// TestWriteWhileRecording_CommitFails: when the catalog cannot record the
// bundle, the error says so first, names the targets written all the
// same (they run at once), and the writes' context is cancelled.
func TestWriteWhileRecording_CommitFails(t *testing.T) {
	h := siteHome(t, signer(t, 1))
	h.Catalog.Close() // every transaction now fails
	rep := &Report{}
	rec := &recording{bundle: &store.BundleRecord{ID: "b1", Direction: store.DirectionLoaded}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := false
	recErr, writeErr := writeWhileRecording(ctx, func() { cancelled = true; cancel() }, h, rec, rep,
		func(context.Context) error {
			rep.Written = append(rep.Written, Written{Target: "oci:/srv/layout"})
			return nil
		})
	if recErr == nil || !strings.Contains(recErr.Error(), "record bundle b1") || !strings.Contains(recErr.Error(), "oci:/srv/layout") {
		t.Errorf("recording error = %v, want one naming bundle b1 and the target written", recErr)
	}
	if writeErr != nil {
		t.Errorf("write error = %v, want nil", writeErr)
	}
	if !cancelled {
		t.Error("the writes' context was not cancelled after the commit failed")
	}
}
