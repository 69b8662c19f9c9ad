package trip

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"golang.org/x/crypto/ssh"
)

// Truster decides whether key may sign for the site an index names.
type Truster = func(ix *format.Index, key ssh.PublicKey) error

// TrustKey trusts exactly one key, whatever site the index names.
func TrustKey(want ssh.PublicKey) Truster {
	return func(ix *format.Index, key ssh.PublicKey) error {
		if !bytes.Equal(key.Marshal(), want.Marshal()) {
			return fmt.Errorf("signed by %s for site %q, not by the key given with --key (%s): %w",
				format.Fingerprint(key), ix.From.Site, format.Fingerprint(want), spec.ErrBadSignature)
		}
		return nil
	}
}

// TrustCatalog trusts the key registered for the index's site (this site's
// own key included).
func TrustCatalog(c *store.Catalog) Truster {
	return func(ix *format.Index, key ssh.PublicKey) error {
		site, err := c.Site(ix.From.Site)
		if errors.Is(err, spec.ErrUnknownSite) {
			return fmt.Errorf("signed by unknown site %q (key %s): register it with ferry site add %s --key FILE.pub: %w",
				ix.From.Site, format.Fingerprint(key), ix.From.Site, spec.ErrUnknownSite)
		}
		if err != nil {
			return err
		}
		if site.Fingerprint != format.Fingerprint(key) {
			return fmt.Errorf("signed by key %s, but site %q is registered with key %s: %w",
				format.Fingerprint(key), ix.From.Site, site.Fingerprint, spec.ErrBadSignature)
		}
		return nil
	}
}
