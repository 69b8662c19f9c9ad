package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"golang.org/x/crypto/ssh"
)

// SiteCmd groups the site subcommands.
type SiteCmd struct {
	Add  SiteAddCmd  `cmd:"" help:"Register another site's public key."`
	Ls   SiteLsCmd   `cmd:"" help:"List known sites."`
	Show SiteShowCmd `cmd:"" help:"Show one site."`
}

// SiteAddCmd is `ferry site add NAME --key FILE.pub`.
type SiteAddCmd struct {
	Name string `arg:"" help:"The site's name."`
	Key  string `required:"" type:"existingfile" help:"The site's public key (OpenSSH format, FILE.pub)."`
}

func (c *SiteAddCmd) Run(g *Globals) error {
	if err := spec.ValidateSiteName(c.Name); err != nil {
		return err
	}
	data, err := os.ReadFile(c.Key)
	if err != nil {
		return fmt.Errorf("site add %s: %w", c.Name, err)
	}
	key, err := format.ParsePublicKey(data)
	if err != nil {
		return fmt.Errorf("site add %s: key %s: %w", c.Name, c.Key, err)
	}
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.Catalog.PutSite(siteRecord(c.Name, key)); err != nil {
		return fmt.Errorf("site add %s: %w", c.Name, err)
	}
	if g.JSON {
		return g.printJSON(map[string]string{"site": c.Name, "fingerprint": format.Fingerprint(key)})
	}
	g.printf("site %q added (%s)\n", c.Name, format.Fingerprint(key))
	return nil
}

// SiteLsCmd is `ferry site ls`.
type SiteLsCmd struct{}

func (c *SiteLsCmd) Run(g *Globals) error {
	h, err := g.openHomeReadOnly()
	if err != nil {
		return err
	}
	defer h.Close()
	sites, err := h.Catalog.Sites()
	if err != nil {
		return err
	}
	self, _ := h.Catalog.Self()
	if g.JSON {
		out := []map[string]any{}
		for _, s := range sites {
			out = append(out, map[string]any{"name": s.Name, "fingerprint": s.Fingerprint, "added": s.Added, "self": s.Name == self})
		}
		return g.printJSON(out)
	}
	for _, s := range sites {
		mark := ""
		if s.Name == self {
			mark = " (this site)"
		}
		g.printf("%-20s %s  added %s%s\n", s.Name, s.Fingerprint, s.Added.Format(time.DateOnly), mark)
	}
	return nil
}

// SiteShowCmd is `ferry site show NAME`.
type SiteShowCmd struct {
	Name string `arg:"" complete:"site" help:"The site's name."`
}

func (c *SiteShowCmd) Run(g *Globals) error {
	h, err := g.openHomeReadOnly()
	if err != nil {
		return err
	}
	defer h.Close()
	s, err := h.Catalog.Site(c.Name)
	if err != nil {
		return err
	}
	sum, err := h.Catalog.SiteSummary(c.Name)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]any{"name": s.Name, "key": s.Key, "fingerprint": s.Fingerprint, "added": s.Added,
			"confirmed":   map[string]any{"blobs": sum.Confirmed, "bytes": sum.ConfirmedBytes},
			"shipped":     map[string]any{"blobs": sum.Shipped, "bytes": sum.ShippedBytes},
			"lastReceipt": sum.LastReceipt, "made": list(sum.Made), "loaded": list(sum.Loaded)})
	}
	g.printf("site:        %s\nfingerprint: %s\nkey:         %s\nadded:       %s\n", s.Name, s.Fingerprint, s.Key, s.Added.Format(time.RFC3339))
	g.printf("holds:       %d blob(s) confirmed (%s), %d shipped and not yet confirmed (%s)\n",
		sum.Confirmed, humanBytes(sum.ConfirmedBytes), sum.Shipped, humanBytes(sum.ShippedBytes))
	if r := sum.LastReceipt; r != nil {
		g.printf("receipt:     %d, created %s, applied %s\n", r.Sequence, r.Created.Format(time.RFC3339), r.Applied.Format(time.RFC3339))
	} else {
		g.printf("receipt:     none applied\n")
	}
	for _, group := range []struct {
		what string
		bs   []store.BundleRecord
	}{{"trips made for it", sum.Made}, {"bundles loaded from it", sum.Loaded}} {
		g.printf("%s: %d\n", group.what, len(group.bs))
		for _, b := range group.bs {
			g.printf("  seq %-4d %s  %s  %d blob(s)  %s\n", b.Sequence, b.Created.Format(time.DateTime), b.ID, b.Blobs, humanBytes(b.Size))
		}
	}
	return nil
}

func siteRecord(name string, key ssh.PublicKey) store.Site {
	return store.Site{Name: name, Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))), Fingerprint: format.Fingerprint(key), Added: time.Now().UTC()}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
