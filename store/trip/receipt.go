package trip

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/store"
)

// CreateReceipt states what h's store holds and the last bundle loaded
// from each sender, under the next receipt sequence of this home.
func CreateReceipt(ctx context.Context, h *store.Home, now time.Time) (*format.Receipt, error) {
	self, err := h.Catalog.Self()
	if err != nil {
		return nil, err
	}
	rc := &format.Receipt{Site: self, Created: now.UTC().Truncate(time.Second).Format(time.RFC3339)}
	err = h.Catalog.Blobs(func(b store.BlobRecord) error {
		rc.Blobs = append(rc.Blobs, format.ReceiptBlob{Digest: b.Digest, Size: b.Size})
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	loaded, err := h.Catalog.LoadedFrom()
	if err != nil {
		return nil, err
	}
	for _, l := range loaded {
		rc.Loaded = append(rc.Loaded, format.LoadedBundle{From: l.From, To: l.To, Sequence: l.Sequence, Bundle: l.Bundle})
	}
	if rc.Sequence, err = h.Catalog.NextReceiptSequence(); err != nil {
		return nil, err
	}
	return rc, nil
}

// WriteReceiptFile signs rc with s and writes it to path through a
// temporary file, so that a failure leaves no partial receipt.
func WriteReceiptFile(path string, rc *format.Receipt, s ssh.Signer) error {
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		return format.WriteReceipt(f, rc, s)
	})
	if err != nil {
		return fmt.Errorf("receipt %s: %w", path, err)
	}
	return nil
}

// ApplyReceipt reads the receipt at path, checks that the key registered
// for the site it names signed it, and reconciles that site's inventory.
func ApplyReceipt(ctx context.Context, h *store.Home, path string) (*format.Receipt, store.ApplyResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, store.ApplyResult{}, fmt.Errorf("receipt %s: %w", path, err)
	}
	defer f.Close()
	rc, err := format.ReadReceipt(f, trustReceipt(h.Catalog))
	if err != nil {
		return nil, store.ApplyResult{}, fmt.Errorf("receipt %s: %w", path, err)
	}
	self, err := h.Catalog.Self()
	if err != nil {
		return nil, store.ApplyResult{}, err
	}
	created, _ := time.Parse(time.RFC3339, rc.Created)
	ra := store.ReceiptApply{Site: rc.Site, Sequence: rc.Sequence, Created: created}
	for _, l := range rc.Loaded {
		if l.From == self {
			ra.Covered = l.Sequence // this home's bundles up to here had reached the site
		}
	}
	for _, b := range rc.Blobs {
		ra.Held = append(ra.Held, store.Holding{Digest: b.Digest, Size: b.Size})
	}
	res, err := h.Catalog.ApplyReceipt(ctx, ra)
	if err != nil {
		return rc, res, fmt.Errorf("receipt %s: %w", path, err)
	}
	return rc, res, nil
}

func trustReceipt(c *store.Catalog) func(rc *format.Receipt, key ssh.PublicKey) error {
	return func(rc *format.Receipt, key ssh.PublicKey) error {
		return checkSiteKey(c, "receipt", rc.Site, key)
	}
}
