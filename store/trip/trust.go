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

// TrustKey trusts exactly one key, for any site the index names that c
// (nil on a machine with no home) does not know by another key: a key
// given on the command line never speaks for a site registered with
// another one.
func TrustKey(want ssh.PublicKey, c *store.Catalog) Truster {
	return func(ix *format.Index, key ssh.PublicKey) error {
		if !bytes.Equal(key.Marshal(), want.Marshal()) {
			return fmt.Errorf("signed by %s for site %q, not by the key given with --key (%s): %w",
				format.Fingerprint(key), ix.From.Site, format.Fingerprint(want), spec.ErrBadSignature)
		}
		if c == nil {
			return nil
		}
		s, err := c.Site(ix.From.Site)
		switch {
		case errors.Is(err, spec.ErrUnknownSite):
			return nil
		case err != nil:
			return err
		case s.Fingerprint != format.Fingerprint(key):
			return fmt.Errorf("bundle from site %q is signed by the key given with --key (%s), but this home registered %q with key %s; "+
				"a key given with --key never speaks for a registered site: %w",
				ix.From.Site, format.Fingerprint(key), ix.From.Site, s.Fingerprint, spec.ErrBadSignature)
		}
		return nil
	}
}

// Registered reports whether key is the one c registered for site: only
// then does a bundle count in that sender's replay bookkeeping.
func Registered(c *store.Catalog, site string, key ssh.PublicKey) bool {
	if c == nil || key == nil {
		return false
	}
	s, err := c.Site(site)
	return err == nil && s.Fingerprint == format.Fingerprint(key)
}

// TrustCatalog trusts the key registered for the index's site (this site's
// own key included).
func TrustCatalog(c *store.Catalog) Truster {
	return func(ix *format.Index, key ssh.PublicKey) error {
		return checkSiteKey(c, "bundle", ix.From.Site, key)
	}
}

// checkSiteKey says whether key is the one registered for site; what
// names the signed thing in the message.
func checkSiteKey(c *store.Catalog, what, site string, key ssh.PublicKey) error {
	s, err := c.Site(site)
	if errors.Is(err, spec.ErrUnknownSite) {
		return spec.Mark(fmt.Errorf("%s signed by unknown site %q (key %s): register it with ferry site add %s --key FILE.pub",
			what, site, format.Fingerprint(key), site), spec.ErrUnknownSite)
	}
	if err != nil {
		return err
	}
	if s.Fingerprint != format.Fingerprint(key) {
		return fmt.Errorf("%s signed by key %s, but site %q is registered with key %s: %w",
			what, format.Fingerprint(key), site, s.Fingerprint, spec.ErrBadSignature)
	}
	return nil
}
