package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// InitCmd is `ferry init --site NAME`.
type InitCmd struct {
	Site string `required:"" help:"This site's name, as other sites will know it."`
}

func (c *InitCmd) Run(g *Globals) error {
	if err := spec.ValidateSiteName(c.Site); err != nil {
		return err
	}
	dir := g.homeDir()
	h, err := store.Init(dir, c.Site)
	if err != nil {
		return err
	}
	defer h.Close()
	priv, pub, err := format.GenerateKey(c.Site)
	if err != nil {
		return err
	}
	if err := os.WriteFile(h.KeyPath(), priv, 0o600); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	if err := os.WriteFile(h.PubKeyPath(), pub, 0o644); err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	key, err := format.ParsePublicKey(pub)
	if err != nil {
		return err
	}
	if err := h.Catalog.PutSite(siteRecord(c.Site, key)); err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]string{"site": c.Site, "home": dir, "publicKey": h.PubKeyPath(), "fingerprint": format.Fingerprint(key)})
	}
	g.printf("initialised site %q in %s\n", c.Site, dir)
	g.printf("public key: %s (%s)\n", h.PubKeyPath(), format.Fingerprint(key))
	g.printf("on the other side, after copying that file there: ferry site add %s --key %s\n", c.Site, filepath.Base(h.PubKeyPath()))
	return nil
}
