package main

import (
	"github.com/ferryhq/ferry/runtime/helm"
)

// ChartCmd is `ferry chart images|export|mirrors`.
type ChartCmd struct {
	Images  ChartImagesCmd  `cmd:"" help:"List every image a Helm chart needs, rendered with the values given."`
	Export  ChartExportCmd  `cmd:"" help:"Write a chart's archive (.tgz) from the store."`
	Mirrors ChartMirrorsCmd `cmd:"" help:"Write containerd hosts.toml and a CRI-O/podman registries.conf.d drop-in that make a cluster pull the store's images from the site registry."`
}

// ChartImagesCmd is `ferry chart images CHART`.
type ChartImagesCmd struct {
	Chart string `arg:"" help:"A chart directory, a .tgz, oci://HOST/PATH/NAME, or (with --repo URL) a chart name."`
	Why   bool   `help:"Say where each image was found: template, kind/name and field; annotation."`
	chartFlags
}

func (c *ChartImagesCmd) Run(g *Globals) error {
	opts, err := c.loadOptions(g)
	if err != nil {
		return err
	}
	ch, err := helm.Load(g.ctx, c.Chart, opts)
	if err != nil {
		return err
	}
	defer ch.Close()
	images, err := ch.Images(g.ctx, c.renderOptions(g))
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(images)
	}
	for _, im := range images {
		g.printf("%s\n", im.Ref)
		if c.Why {
			for _, p := range im.Found {
				g.printf("    %s\n", p)
			}
		}
	}
	if len(images) == 0 {
		g.warnf("chart %s %s needs no image\n", ch.Name, ch.Version)
	}
	return nil
}
