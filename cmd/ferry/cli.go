package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/helm"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"golang.org/x/term"
)

// CLI is the grammar of the ferry command.
type CLI struct {
	Globals

	Init       InitCmd       `cmd:"" help:"Create this site's home: store, catalog and key pair."`
	Site       SiteCmd       `cmd:"" help:"Known sites: add, ls, show."`
	Save       SaveCmd       `cmd:"" help:"Make a signed bundle of images."`
	Verify     VerifyCmd     `cmd:"" help:"Check a bundle: signature, every entry, every image."`
	Load       LoadCmd       `cmd:"" help:"Verify and ingest a bundle, then write its images to targets."`
	Receipt    ReceiptCmd    `cmd:"" help:"The way back: a site's signed statement of what it holds."`
	Inspect    InspectCmd    `cmd:"" help:"Show a bundle's index without unpacking it."`
	Ls         LsCmd         `cmd:"" help:"List the images in the store."`
	Du         DuCmd         `cmd:"" help:"Show the store's disk use."`
	Copy       CopyCmd       `cmd:"" help:"Write an image from the store (or any source) to a target."`
	Gc         GcCmd         `cmd:"" help:"Remove blobs no image references."`
	Check      CheckCmd      `cmd:"" help:"Check the catalog against the store on disk."`
	Chart      ChartCmd      `cmd:"" help:"Helm charts: the images a chart needs; at the site, a chart's archive and the cluster's mirror files."`
	Pull       PullCmd       `cmd:"" help:"Copy images into the store: from a registry (an image, or a repository's every tag), an archive or any source."`
	Push       PushCmd       `cmd:"" help:"Write images from the store, or a docker save archive, to a registry; each keeps its repository path."`
	Tag        TagCmd        `cmd:"" help:"Give an image of the store another name."`
	Rm         RmCmd         `cmd:"" help:"Remove images from the store (ferry gc then frees the blobs no image uses)."`
	Login      LoginCmd      `cmd:"" help:"Check a user and password against a registry and save them where docker, podman and skopeo read them."`
	Logout     LogoutCmd     `cmd:"" help:"Remove a registry's saved login."`
	Help       HelpCmd       `cmd:"" help:"Show the help of a command, a topic, or the whole manual (--man)."`
	Completion CompletionCmd `cmd:"" help:"Print the completion script for bash, zsh or fish."`
	Complete   CompleteCmd   `cmd:"" name:"__complete" hidden:"" passthrough:"" help:"Complete a command line (the completion scripts call it)."`
	Version    VersionCmd    `cmd:"" help:"Show the version, the commit, Go, and the format versions this ferry reads and writes."`
}

// Globals are the flags every command takes, and where it writes.
type Globals struct {
	Home string `help:"Home directory (store, catalog, keys)." env:"FERRY_HOME" placeholder:"DIR"`
	JSON bool   `name:"json" help:"Print data as JSON."`
	From string `enum:",store,docker,containerd,podman,registry" default:"" help:"Where a bare image name is read from: store, docker, containerd, podman or registry (default: the first of these that holds it)."`
	registryFlags

	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// spool keeps what a runtime streams once (a Docker export): save
	// sets it to keep the bundle's frames.
	spool runtime.Spool
}

// Main runs ferry with args and returns its exit code: 0 success, 1 bad
// input or failed verification, 2 usage error or internal fault.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return mainIO(ctx, args, os.Stdin, stdout, stderr)
}

// mainIO is Main with its standard input given (login --password-stdin
// reads it).
func mainIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// --version is not a kong flag: a root flag would be every
	// subcommand's too, and chart images has a --version of its own.
	if len(args) == 1 && args[0] == "--version" {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	cli := CLI{Globals: Globals{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}}
	exit := -1
	parser, err := kong.New(&cli,
		kong.Name("ferry"),
		kong.Description("Move container images to air-gapped sites in signed bundles that carry only what each site lacks. "+
			"ferry --version prints the version."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		helpTexts(map[string]string{"kube_version": helm.DefaultKubeVersion, "sources": runtime.SourceForms,
			"targets": runtime.TargetForms, "topics": topicNames()}),
	)
	if err != nil {
		fmt.Fprintln(stderr, "ferry:", err)
		return exitInternal
	}
	if len(args) == 0 {
		args = []string{"--help"} // as docker and helm do: what there is to run
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 {
		return exit
	}
	if msg, ok := badFileArg(err); ok {
		fmt.Fprintln(stderr, "ferry:", msg)
		return exitBadInput
	}
	if err != nil {
		fmt.Fprintln(stderr, "ferry:", err)
		if line := usageLine(err); line != "" {
			fmt.Fprintln(stderr, line)
		}
		return exitInternal
	}
	if err := kctx.Run(&cli.Globals); err != nil {
		fmt.Fprintln(stderr, "ferry:", err)
		return exitCode(err)
	}
	return exitOK
}

// helpTexts writes texts that the help of several commands shares (the
// forms of a source and a target, the topics) where that help says
// ${name}, once the grammar is built. Given to kong as variables
// (kong.Vars) instead, each would be interpolated again for every flag
// and argument of every command, at every start: BenchmarkMain_Grammar
// took 3.0 ms with them, 2.2 without.
func helpTexts(vars map[string]string) kong.Option {
	pairs := make([]string, 0, 2*len(vars))
	for name, text := range vars {
		pairs = append(pairs, "${"+name+"}", text)
	}
	r := strings.NewReplacer(pairs...)
	return kong.PostBuild(func(k *kong.Kong) error {
		return kong.Visit(k.Model.Node, func(v kong.Visitable, next kong.Next) error {
			switch v := v.(type) {
			case *kong.Node:
				v.Help, v.Detail = r.Replace(v.Help), r.Replace(v.Detail)
			case *kong.Value:
				v.Help = r.Replace(v.Help)
			}
			return next(nil)
		})
	})
}

// Exit codes of the ferry command (README, Exit codes).
const (
	exitOK       = 0
	exitBadInput = 1 // verification failed or bad input
	exitInternal = 2 // usage error or internal fault
)

// exitCode is the one place errors become exit codes.
func exitCode(err error) int {
	if spec.IsBadInput(err) {
		return exitBadInput
	}
	return exitInternal
}

// homeDir is --home, else FERRY_HOME (kong fills it), else the XDG default.
// An empty value is no value, as an empty XDG_DATA_HOME is: expanded as a
// path (kong's type:"path"), "" would be the working directory, and
// FERRY_HOME= ferry init would make a home there.
func (g *Globals) homeDir() string {
	if g.Home != "" {
		return kong.ExpandPath(g.Home)
	}
	return store.DefaultDir()
}

func (g *Globals) openHome() (*store.Home, error) {
	return store.OpenHome(g.homeDir())
}

// openHomeReadOnly opens the home for a command that only reads it, so
// that a home on a read-only medium works too.
func (g *Globals) openHomeReadOnly() (*store.Home, error) {
	return store.OpenHomeReadOnly(g.homeDir())
}

// list is s, or an empty list for nil: --json prints [] for a list with
// nothing in it, never null, so that a script can iterate it.
func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printJSON writes v as indented JSON to stdout.
func (g *Globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (g *Globals) printf(format string, a ...any) {
	fmt.Fprintf(g.stdout, format, a...)
}

func (g *Globals) warnf(format string, a ...any) {
	fmt.Fprintf(g.stderr, format, a...)
}

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// isDir says whether p names an existing directory: an output flag given
// one writes its default name in it, as cp does.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// badFileArg says kong's error for a file named on the command line that
// does not exist ("<bundle> ...: stat x.ferry: no such file or
// directory", "--key: stat k.pub: …") or is a directory ("<bundle> ...:
// \"dir\" exists but is a directory") as the input fault it is, a bad
// value (exit 1): "bundle x.ferry: no such file or directory", "bundle
// dir is a directory: name the bundle files in it (dir/*.ferry)".
func badFileArg(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "stat" && errors.Is(err, fs.ErrNotExist) {
		if what, _, ok := strings.Cut(err.Error(), ": stat "); ok {
			return argName(what) + " " + pe.Path + ": no such file or directory", true
		}
	}
	what, rest, _ := strings.Cut(err.Error(), ": ")
	if quoted, ok := strings.CutSuffix(rest, " exists but is a directory"); ok {
		dir, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			return "", false
		}
		if what = argName(what); what == "bundle" {
			return fmt.Sprintf("bundle %s is a directory: name the bundle files in it (%s)", dir, filepath.Join(dir, "*.ferry")), true
		}
		return fmt.Sprintf("%s %s is a directory: name a file", what, dir), true
	}
	return "", false
}

// usageLine is a second line for a mistake kong found on the command
// line (`expected "<bundle> ..."`, an unknown flag): how to run the
// command it was in, and where its help is. "" when no command was named
// (kong's own message then suggests one).
func usageLine(err error) string {
	var pe *kong.ParseError
	if !errors.As(err, &pe) || pe.Context == nil {
		return ""
	}
	n := pe.Context.Selected()
	for n != nil && n.Type != kong.CommandNode {
		n = n.Parent
	}
	if n == nil {
		return ""
	}
	return fmt.Sprintf("usage: ferry %s (ferry %s --help says more)", strings.TrimSpace(n.Summary()), strings.TrimSpace(n.Path()))
}

// argName is an argument as kong's errors name it, as ferry's do:
// "bundle" for "<bundle> ...", "--key" as it is.
func argName(s string) string { return strings.Trim(strings.TrimSuffix(s, " ..."), "<>") }

// errUsage marks a mistake on the command line (exit 2); usage marks an
// error that says what to do instead, without the word.
var errUsage = errors.New("usage")

func usage(err error) error { return spec.Mark(err, errUsage) }
