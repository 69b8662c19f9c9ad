package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime/mirror"
)

// ChartMirrorsCmd is `ferry chart mirrors --registry HOST[/PREFIX] [-o DIR]`.
type ChartMirrorsCmd struct {
	Registry   string   `required:"" placeholder:"HOST[:PORT][/PREFIX]" help:"The site registry, as the nodes reach it, where ferry load --into docker://HOST[:PORT][/PREFIX] pushed the images."`
	Output     string   `short:"o" type:"path" default:"." placeholder:"DIR" help:"Directory to write certs.d/<host>/hosts.toml and registries.conf.d/ under."`
	Host       []string `placeholder:"HOST" help:"Mirror this registry host too, besides those of the store's images; repeatable."`
	PlainHTTP  bool     `help:"The site registry speaks HTTP."`
	SkipVerify bool     `help:"Do not verify the site registry's certificate."`
	CA         string   `placeholder:"PATH" help:"The site registry's CA certificate, as a path on the nodes."`
}

func (c *ChartMirrorsCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	recs, err := h.Catalog.Images()
	if err != nil {
		return err
	}
	var names []string
	for _, r := range recs {
		if r.Chart == nil {
			names = append(names, r.Name)
		}
	}
	hosts, warnings := mirror.Hosts(names)
	hosts = append(hosts, c.Host...)
	if len(hosts) == 0 {
		return usage(fmt.Errorf("chart mirrors: the store at %s holds no image named by its registry (load a bundle first, or give --host)", h.Dir))
	}
	files, err := mirror.Files(hosts, mirror.Options{Registry: c.Registry, PlainHTTP: c.PlainHTTP, SkipVerify: c.SkipVerify, CA: c.CA})
	if err != nil {
		return err
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(c.Output, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		err := atomicfile.Write(p, 0o644, func(out *os.File) error {
			_, err := out.Write(f.Data)
			return err
		})
		if err != nil {
			return fmt.Errorf("chart mirrors: %w", err)
		}
		written = append(written, p)
	}
	for _, w := range warnings {
		g.warning(w)
	}
	if g.JSON {
		return g.printJSON(map[string]any{"hosts": hosts, "files": written, "warnings": warnings})
	}
	for _, p := range written {
		g.printf("wrote %s\n", p)
	}
	g.printf("containerd: copy %s/* to /etc/containerd/certs.d/ (the CRI registry config_path)\n", filepath.Join(c.Output, mirror.ContainerdDir))
	g.printf("CRI-O and podman: copy %s to /etc/containers/registries.conf.d/\n", filepath.Join(c.Output, filepath.FromSlash(mirror.RegistriesConf)))
	return nil
}
