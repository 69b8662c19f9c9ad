// Package podman is the podman:REF transport: images read from and
// written to podman's image storage through the podman command line, the
// interface podman keeps stable across versions. A Source exports each
// image with `podman save --format oci-dir --uncompressed` into a
// temporary OCI layout and serves its blobs; a Target writes an OCI
// archive per image, without the layers podman already holds, and loads
// it with `podman load` (see Target.Write).
//
// Digests: podman (containers/storage) keeps every layer uncompressed. An
// image whose layers were compressed therefore comes out of podman with
// uncompressed layers (each layer's digest is its DiffID), the same
// config (the digest podman shows as the image ID) and so a new manifest
// digest; an image whose layers were uncompressed keeps its manifest
// digest. podman's export labels those uncompressed layers with the types
// of the manifest it was given (tar+gzip, say): a Source types each layer
// by its bytes instead (relabel). A Source is deterministic: saving the
// same image twice gives the same bytes.
package podman

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Options says which podman and which storage. The zero value runs
// "podman" from PATH with the storage of its storage.conf, which
// CONTAINERS_STORAGE_CONF may name, as podman itself does.
type Options struct {
	// Podman is the program; "" means "podman" on PATH.
	Podman string
	// Root, RunRoot and StorageDriver, when set, are podman's --root,
	// --runroot and --storage-driver and override storage.conf.
	Root, RunRoot, StorageDriver string
	// TmpDir holds a Source's export and a Target's archives while they
	// are in use; "" means os.TempDir().
	TmpDir string
}

// cli runs podman with the options' storage.
type cli struct {
	opts Options
	bin  string
}

func newCLI(opts Options) (*cli, error) {
	name := opts.Podman
	if name == "" {
		name = "podman"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("podman: %w (install podman, or use another transport)", err)
	}
	return &cli{opts: opts, bin: bin}, nil
}

// where names podman's storage in errors.
func (c *cli) where() string {
	switch {
	case c.opts.Root != "":
		return "podman (storage " + c.opts.Root + ")"
	case os.Getenv("CONTAINERS_STORAGE_CONF") != "":
		return "podman (storage.conf " + os.Getenv("CONTAINERS_STORAGE_CONF") + ")"
	}
	return "podman"
}

func (c *cli) globalArgs() []string {
	var args []string
	for _, f := range []struct{ flag, v string }{
		{"--root", c.opts.Root}, {"--runroot", c.opts.RunRoot}, {"--storage-driver", c.opts.StorageDriver},
	} {
		if f.v != "" {
			args = append(args, f.flag+"="+f.v)
		}
	}
	return args
}

// exitError is a podman run that failed, with what podman said.
type exitError struct {
	args   []string
	code   int
	stderr string
}

func (e *exitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = msg[i+1:] // podman's last line is the error
	}
	return fmt.Sprintf("podman %s: exit status %d: %s", strings.Join(e.args, " "), e.code, msg)
}

// run runs podman args and returns its standard output. It stops podman
// when ctx is done and then returns ctx's error.
func (c *cli) run(ctx context.Context, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, c.bin, append(c.globalArgs(), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, &exitError{args: args, code: ee.ExitCode(), stderr: stderr.String()}
	}
	if err != nil {
		return nil, fmt.Errorf("podman %s: %w", strings.Join(args, " "), err)
	}
	return stdout.Bytes(), nil
}

// List returns every name of every image in the storage opts names,
// sorted, once each: what `podman images` lists, less untagged images.
func List(ctx context.Context, opts Options) ([]string, error) {
	c, err := newCLI(opts)
	if err != nil {
		return nil, err
	}
	names, err := c.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.where(), err)
	}
	return names, nil
}

func (c *cli) list(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "images", "--format", "json")
	if err != nil {
		return nil, err
	}
	var imgs []struct{ Names []string }
	if err := json.Unmarshal(out, &imgs); err != nil {
		return nil, fmt.Errorf("podman images: %w", err)
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Names...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
