package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/ferryhq/ferry/internal/complete"
	"github.com/ferryhq/ferry/internal/release"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// CompletionCmd is `ferry completion SHELL`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish. Load with: source <(ferry completion bash); source <(ferry completion zsh) after compinit; ferry completion fish | source."`
}

func (c *CompletionCmd) Run(g *Globals) error {
	s, err := complete.Script(c.Shell, "ferry", completeCommand)
	if err != nil {
		return err
	}
	g.printf("%s", s)
	return nil
}

// completeCommand is the hidden command the scripts call.
const completeCommand = "__complete"

// CompleteCmd is `ferry __complete WORDS...`: the candidates for the last
// word, one a line.
type CompleteCmd struct {
	Words []string `arg:"" optional:"" help:"The words after ferry, the last one being completed."`
}

func (c *CompleteCmd) Run(g *Globals, kctx *kong.Context) error {
	p := predictor{home: completionHome(c.Words), app: kctx.Model}
	defer p.close()
	return complete.Write(g.stdout, complete.Complete(kctx.Model, c.Words, p.predict))
}

// predictor offers ferry's values: images and sites from the catalog,
// transports, registries logged in to, platforms and files.
type predictor struct {
	home string
	app  *kong.Application
	cat  *store.Catalog
}

// transportPrefixes start every image name that is not a bare name.
var transportPrefixes = []string{
	runtime.TransportOCI + ":", runtime.TransportOCIArchive + ":", runtime.TransportDockerArchive + ":",
	runtime.TransportRegistry + "://", runtime.TransportDockerDaemon + ":", runtime.TransportContainerd + ":",
	runtime.TransportPodman + ":",
}

// filePrefixes are the transports followed by a path.
var filePrefixes = []string{runtime.TransportOCI + ":", runtime.TransportOCIArchive + ":", runtime.TransportDockerArchive + ":"}

// commonPlatforms are offered for --platform.
var commonPlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386",
	"linux/ppc64le", "linux/s390x", "linux/riscv64", "windows/amd64"}

func (p *predictor) predict(kind, prefix string) []complete.Candidate {
	switch kind {
	case "file":
		return complete.Files("", prefix)
	case "image", "target":
		for _, t := range filePrefixes {
			if rest, ok := strings.CutPrefix(prefix, t); ok {
				return complete.Files(t, rest)
			}
		}
		out := words(transportPrefixes, "transport")
		if kind == "image" {
			out = append(out, p.images()...)
			out = append(out, complete.Files("", prefix)...)
		}
		return out
	case "site":
		return p.sites()
	case "registry":
		creds, err := registry.CredentialsFile()
		if err != nil {
			return nil
		}
		regs, _ := creds.Registries()
		return words(regs, "logged in")
	case "runtime":
		return words([]string{runtime.TransportDockerDaemon + ":", runtime.TransportContainerd + ":", runtime.TransportPodman + ":"}, "")
	case "platform":
		return words(commonPlatforms, "")
	case "release":
		return words(release.Platforms, "")
	case "help":
		var out []complete.Candidate
		for _, n := range p.app.Children {
			if !n.Hidden {
				out = append(out, complete.Candidate{Value: n.Name, Help: n.Help})
			}
		}
		for _, t := range topics {
			out = append(out, complete.Candidate{Value: t.Name, Help: t.Title})
		}
		return out
	}
	return nil
}

func words(ws []string, help string) []complete.Candidate {
	out := make([]complete.Candidate, 0, len(ws))
	for _, w := range ws {
		out = append(out, complete.Candidate{Value: w, Help: help})
	}
	return out
}

func (p *predictor) images() []complete.Candidate {
	return fromCatalog(p, (*store.Catalog).Images, func(r store.ImageRecord) complete.Candidate {
		return complete.Candidate{Value: r.Name, Help: string(r.Digest)}
	})
}

func (p *predictor) sites() []complete.Candidate {
	return fromCatalog(p, (*store.Catalog).Sites, func(s store.Site) complete.Candidate {
		return complete.Candidate{Value: s.Name, Help: s.Fingerprint}
	})
}

// fromCatalog offers what list reads from the home's catalog, nothing when
// the catalog cannot be read at once.
func fromCatalog[T any](p *predictor, list func(*store.Catalog) ([]T, error), word func(T) complete.Candidate) []complete.Candidate {
	cat := p.catalog()
	if cat == nil {
		return nil
	}
	recs, err := list(cat)
	if err != nil {
		return nil
	}
	out := make([]complete.Candidate, 0, len(recs))
	for _, r := range recs {
		out = append(out, word(r))
	}
	return out
}

// completionLockWait is how long completion waits for a catalog another
// ferry holds: a keystroke must not hang.
const completionLockWait = 200 * time.Millisecond

// catalog opens the home's catalog once, for reading only (completion
// never writes), and only if it exists; nil when it cannot be had at once.
func (p *predictor) catalog() *store.Catalog {
	if p.cat != nil {
		return p.cat
	}
	path := filepath.Join(p.home, spec.CatalogFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	cat, err := store.OpenCatalogWith(path, store.CatalogOptions{Timeout: completionLockWait, ReadOnly: true})
	if err != nil {
		return nil
	}
	p.cat = cat
	return cat
}

func (p *predictor) close() {
	if p.cat != nil {
		p.cat.Close()
	}
}

// completionHome is the --home typed among words, else FERRY_HOME, else
// the default home.
func completionHome(words []string) string {
	for i, w := range words {
		if v, ok := strings.CutPrefix(w, "--home="); ok {
			return v
		}
		if w == "--home" && i+1 < len(words)-1 {
			return words[i+1]
		}
	}
	if h := os.Getenv("FERRY_HOME"); h != "" {
		return h
	}
	return store.DefaultDir()
}
