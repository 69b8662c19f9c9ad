package main

import (
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// TagCmd is `ferry tag SOURCE NEW`.
type TagCmd struct {
	Source string `arg:"" complete:"image" help:"An image in the store."`
	New    string `arg:"" help:"Its new name, NAME[:TAG] (a name it already has elsewhere is moved)."`
}

func (c *TagCmd) Run(g *Globals) error {
	ref, err := runtime.Parse(c.New)
	if err != nil {
		return err
	}
	if ref.Transport != runtime.TransportStore || strings.Contains(ref.Tag, "@") {
		return fmt.Errorf("tag %s: the new name is NAME[:TAG], an image name in the store (no transport, no digest): %w",
			spec.Quote(c.New), spec.ErrBadInput)
	}
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	rec, replaced, err := h.Tag(g.ctx, runtime.Normalize(c.Source), ref.Tag)
	if err != nil {
		return err
	}
	moved := replaced.Name != "" && replaced.Digest != rec.Digest
	if g.JSON {
		out := map[string]any{"name": ref.Tag, "digest": rec.Digest}
		if moved {
			out["movedFrom"] = replaced.Digest
		}
		return g.printJSON(out)
	}
	if moved {
		g.warnf("%s moved from %s\n", spec.Quote(ref.Tag), replaced.Digest)
	}
	g.printf("tagged %s %s\n", spec.Quote(ref.Tag), rec.Digest)
	return nil
}

// RmCmd is `ferry rm IMAGE...`.
type RmCmd struct {
	Images []string `arg:"" name:"image" complete:"image" help:"Images in the store."`
}

func (c *RmCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	names := make([]string, 0, len(c.Images))
	for _, n := range c.Images {
		names = append(names, runtime.Normalize(n))
	}
	recs, err := h.Remove(g.ctx, names)
	if err != nil {
		return err
	}
	free, err := h.GC(g.ctx, true)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]any{"removed": list(recs), "unreferenced": free})
	}
	for _, r := range recs {
		g.printf("removed %s %s\n", spec.Quote(r.Name), r.Digest)
	}
	if len(free.Removed) > 0 {
		g.printf("%d blob(s), %s, no longer used by any image: ferry gc removes them\n", len(free.Removed), humanBytes(free.Bytes))
	}
	return nil
}
