package main

import (
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/trip"
)

// InspectCmd is `ferry inspect BUNDLE`.
type InspectCmd struct {
	Bundle string `arg:"" type:"existingfile" help:"Bundle file."`
}

func (c *InspectCmd) Run(g *Globals) error {
	var trust trip.Truster
	if h, err := g.openHomeReadOnly(); err == nil {
		defer h.Close()
		trust = trip.TrustCatalog(h.Catalog)
	}
	info, err := trip.Inspect(c.Bundle, trust)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(info)
	}
	ix := info.Index
	g.printf("bundle:    %s\nid:        %s\nschema:    %d\ncreated:   %s\nfrom:      %s (%s)\nsignature: %s\nto:        %s\nsequence:  %d\n",
		c.Bundle, ix.ID, ix.SchemaVersion, ix.Created, ix.From.Site, ix.From.Fingerprint, info.Signature, orAny(ix.To), ix.Sequence)
	if ix.IsSet() {
		g.printf("volume:    %d of %d of set %s (%s)\n", ix.Volume, len(ix.Volumes), ix.ID, spec.VolumeName("NAME", ix.Volume, len(ix.Volumes)))
	}
	g.printf("images:\n")
	for _, im := range ix.Images {
		g.printf("  %s %s %s\n", spec.Quote(im.Name), im.Digest, quoteAll(im.Platforms))
	}
	if len(ix.Charts) > 0 {
		g.printf("charts:\n")
	}
	for _, ch := range ix.Charts {
		g.printf("  %s %s %s (%s), needs %d image(s)\n", ch.Name, ch.Version, ch.Digest, ch.Ref(), len(ch.Images))
		for _, im := range ch.Images {
			g.printf("    %s\n", spec.Quote(im))
		}
	}
	for _, im := range ix.Refused {
		g.printf("  REFUSED %s: %v\n", im.Digest, im.Err)
	}
	var shipped, omitted int64
	carriers := ix.Carriers()
	g.printf("blobs:\n")
	for _, b := range ix.Blobs {
		what := spec.Quote(b.MediaType)
		switch {
		case b.Extra != nil:
			what = "extra " + spec.Quote(b.Extra.Name)
		case b.Delta != nil:
			what += fmt.Sprintf(" as a delta of %s on %d base(s) %v, recipe %s", humanBytes(b.Delta.Size), len(b.Delta.Bases), b.Delta.Bases, recipeText(b.Delta.Recipe))
		case b.Chunk != nil:
			what += " in " + partsWhere(b.Chunk.Parts, ix.Volume)
		case b.Kind != spec.KindBlob:
			what += " (kind " + spec.Quote(b.Kind) + ", unknown to this ferry)"
		}
		if ix.IsSet() && b.Chunk == nil && b.Status == spec.StatusShipped {
			what += " in volume(s) " + joinInts(carriers[b.Digest])
		}
		g.printf("  %-12s %s %10s %s\n", b.Status, b.Digest, humanBytes(b.Size), what)
		if b.Status == spec.StatusShipped && b.Delta != nil {
			shipped += b.Delta.Size
		} else if b.Status == spec.StatusShipped {
			shipped += b.Size
		} else {
			omitted += b.Size
		}
	}
	g.printf("shipped %s, omitted %s\n", humanBytes(shipped), humanBytes(omitted))
	return nil
}

func orAny(s string) string {
	if s == "" {
		return "(any site)"
	}
	return s
}

// quoteAll prints a list of untrusted strings as [a b c], each through
// spec.Quote.
func quoteAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = spec.Quote(s)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// partsWhere says which volume carries each part of a chunked blob,
// marking this volume's.
func partsWhere(parts []spec.Part, here int) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = fmt.Sprintf("part %d: volume %d", i+1, p.Volume)
		if p.Volume == here {
			out[i] += " (this one)"
		}
	}
	return fmt.Sprintf("%d parts (%s)", len(parts), strings.Join(out, ", "))
}
