package format

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Receipt is what a site states it holds: every blob of its store and, per
// sender, the last bundle it loaded from it. It is the way back from a site
// to a sender, a small signed file (WriteReceipt, ReadReceipt) that
// spec/receipt-v1.md describes. It is the site's whole inventory: the
// sender sets its record of that site to exactly these blobs.
type Receipt struct {
	SchemaVersion int    `json:"schemaVersion"` // spec.ReceiptSchemaVersion
	MediaType     string `json:"mediaType"`     // spec.ReceiptMediaType
	Site          string `json:"site"`          // the site stating what it holds
	Fingerprint   string `json:"fingerprint"`   // of its signing key, SHA256:…
	Created       string `json:"created"`       // RFC 3339 UTC, whole seconds
	// Sequence is the site's own receipt counter, from 1. A receipt not
	// newer than one the sender applied changes nothing.
	Sequence uint64         `json:"sequence"`
	Blobs    []ReceiptBlob  `json:"blobs"`  // every blob the site's store holds, sorted by digest, no duplicates
	Loaded   []LoadedBundle `json:"loaded"` // per sender, sorted by From: the last bundle loaded from it
}

// ReceiptBlob is a blob the site holds.
type ReceiptBlob struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// LoadedBundle is the last bundle a site loaded from one sender.
type LoadedBundle struct {
	From     string `json:"from"`         // the sending site
	To       string `json:"to,omitempty"` // the bundle's destination; "" for any
	Sequence uint64 `json:"sequence"`     // the bundle's sequence
	Bundle   string `json:"bundle"`       // the bundle's id
}

// receiptJSON and loadedJSON are Receipt and LoadedBundle with their fields
// in key order. encoding/json writes struct fields in declaration order, so
// their encoding is the canonical JSON of a Receipt (Canonical gives the
// same bytes) without decoding into generic maps, which would cost a
// hundred times the memory for a receipt of many blobs.
type receiptJSON struct {
	Blobs         []ReceiptBlob `json:"blobs"`
	Created       string        `json:"created"`
	Fingerprint   string        `json:"fingerprint"`
	Loaded        []loadedJSON  `json:"loaded"`
	MediaType     string        `json:"mediaType"`
	SchemaVersion int           `json:"schemaVersion"`
	Sequence      uint64        `json:"sequence"`
	Site          string        `json:"site"`
}

type loadedJSON struct {
	Bundle   string `json:"bundle"`
	From     string `json:"from"`
	Sequence uint64 `json:"sequence"`
	To       string `json:"to,omitempty"`
}

// Validate checks what a sender relies on: the version (first, as
// spec.ErrUnsupportedVersion naming it), the media type, the site's name,
// the fingerprint's form, the created time, the sequence, every blob's
// digest and size, that blobs are sorted by digest without duplicates and
// senders sorted by name without duplicates, and the counts. Other errors
// name the field and wrap spec.ErrCorrupt.
func (rc *Receipt) Validate() error {
	if rc.SchemaVersion != spec.ReceiptSchemaVersion {
		return fmt.Errorf("schemaVersion %d: %w (this ferry reads %d)",
			rc.SchemaVersion, spec.ErrUnsupportedVersion, spec.ReceiptSchemaVersion)
	}
	if rc.MediaType != spec.ReceiptMediaType {
		return fieldErrorf("mediaType", "%q, want %q", clip(rc.MediaType), spec.ReceiptMediaType)
	}
	if err := validateSite("site", rc.Site); err != nil {
		return err
	}
	if err := validateFingerprint("fingerprint", rc.Fingerprint); err != nil {
		return err
	}
	if len(rc.Created) != len("2006-01-02T15:04:05Z") {
		return fieldErrorf("created", "%q is not RFC 3339 UTC in whole seconds", clip(rc.Created))
	}
	if err := validateCreated(rc.Created); err != nil {
		return err
	}
	if rc.Sequence == 0 {
		return fieldErrorf("sequence", "0: a site numbers its receipts from 1")
	}
	if err := validateReceiptBlobs(rc.Blobs); err != nil {
		return err
	}
	return validateLoaded(rc.Loaded)
}

// validateSite accepts what ferry accepts as a site name
// (spec.ValidateSiteName).
func validateSite(field, name string) error {
	if err := spec.ValidateSiteName(name); err != nil {
		return fieldErrorf(field, "%q is not a site name (1 to 64 letters, digits, '.', '_' or '-')", clip(name))
	}
	return nil
}

// validateFingerprint accepts "SHA256:" and the unpadded base64 of 32
// bytes, as ssh.FingerprintSHA256 and ssh-keygen -l write it; field names
// the field in the error.
func validateFingerprint(field, fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if ok {
		sum, err := base64.RawStdEncoding.Strict().DecodeString(b64)
		ok = err == nil && len(sum) == 32
	}
	if !ok {
		return fieldErrorf(field, "%q is not a SHA256 key fingerprint", clip(fp))
	}
	return nil
}

func validateReceiptBlobs(blobs []ReceiptBlob) error {
	if len(blobs) > spec.MaxReceiptBlobs {
		return fieldErrorf("blobs", "%d blobs, at most %d: %w", len(blobs), spec.MaxReceiptBlobs, spec.ErrTooLarge)
	}
	for i := range blobs {
		b := &blobs[i]
		if !isSHA256(b.Digest) {
			err := spec.ValidateDigest(b.Digest)
			if err == nil { // never: isSHA256 accepts exactly what ValidateDigest does
				err = errors.New("not sha256 and 64 lowercase hex digits")
			}
			return &fieldError{field: fmt.Sprintf("blobs[%d].digest", i), err: err}
		}
		if b.Size < 0 {
			return fieldErrorf(fmt.Sprintf("blobs[%d].size", i), "%d is negative", b.Size)
		}
		if i == 0 {
			continue
		}
		if prev := blobs[i-1].Digest; b.Digest == prev {
			return fieldErrorf(fmt.Sprintf("blobs[%d]", i), "%s listed twice", b.Digest)
		} else if b.Digest < prev {
			return fieldErrorf(fmt.Sprintf("blobs[%d]", i), "%s after %s: not sorted by digest", b.Digest, prev)
		}
	}
	return nil
}

// isSHA256 reports whether d is "sha256:" and 64 lowercase hex digits:
// what spec.ValidateDigest accepts, at a tenth of its cost (go-digest
// matches a regular expression), which counts for a million blobs.
func isSHA256(d digest.Digest) bool {
	hex, ok := strings.CutPrefix(string(d), "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func validateLoaded(loaded []LoadedBundle) error {
	if len(loaded) > spec.MaxReceiptSenders {
		return fieldErrorf("loaded", "%d senders, at most %d: %w", len(loaded), spec.MaxReceiptSenders, spec.ErrTooLarge)
	}
	for i, l := range loaded {
		field := fmt.Sprintf("loaded[%d]", i)
		if err := validateSite(field+".from", l.From); err != nil {
			return err
		}
		if l.To != "" {
			if err := validateSite(field+".to", l.To); err != nil {
				return err
			}
		}
		if l.Bundle == "" {
			return fieldErrorf(field+".bundle", "empty")
		}
		if i == 0 {
			continue
		}
		if prev := loaded[i-1].From; l.From == prev {
			return fieldErrorf(field+".from", "%s listed twice", l.From)
		} else if l.From < prev {
			return fieldErrorf(field+".from", "%s after %s: not sorted by sender", l.From, prev)
		}
	}
	return nil
}

// clip shortens an untrusted string for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// clipErr is err's message, shortened: it may quote untrusted input.
func clipErr(err error) string {
	if s := err.Error(); len(s) > 200 {
		return s[:200] + "…"
	}
	return err.Error()
}
