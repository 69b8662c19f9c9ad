// Package helm is ferry's one door to the Helm SDK (helm.sh/helm/v4: its
// chart loader, chartutil and engine, never pkg/action). It reads a chart
// from a directory, a .tgz, an OCI registry (oci://) or a classic chart
// repository (index.yaml); renders it as `helm install` would for the
// values given; finds every image the rendered chart needs and says where
// it found each; and packs the chart as the OCI artifact `helm push`
// makes, so that it travels through ferry as one more manifest graph.
//
// What is rendered is what travels: every chart, a directory included, is
// first turned into the bytes of its archive, and Helm loads the chart
// from those bytes.
package helm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
)

// MaxArchiveSize caps a chart's archive (.tgz) read from a file, a
// registry or a repository, and the archive made of a directory. Helm's
// loader further caps the chart decompressed (100 MiB).
const MaxArchiveSize = 20 << 20

// Chart is a chart as it travels: the bytes of its archive and the chart
// Helm loaded from them.
type Chart struct {
	// Name and Version are those of its Chart.yaml.
	Name, Version string
	// Source says where it was read: a directory, a file, an oci://
	// reference, or a repository URL and chart name.
	Source string

	archive []byte
	chart   *chartv2.Chart
	pulled  *pulled // the artifact a registry served, for an oci:// chart
}

// LoadOptions says which chart version to take and how to reach
// registries and repositories. The zero value takes the newest stable
// version with the default registry options.
type LoadOptions struct {
	// Version is the chart version for an oci:// or --repo chart: an exact
	// version, or a semver constraint (">=1.2 <2") resolved as Helm does;
	// "" means the newest version that is not a pre-release. A directory
	// or file chart must have this version when it is set.
	Version string
	// Repo is the URL of a classic chart repository; when set, the chart
	// reference is the name of a chart in its index.yaml.
	Repo string
	// Registry says how registries and repositories are reached: TLS,
	// CA, credentials, mirrors.
	Registry registry.Options
	// Warn, when set, is told what a load includes that the user may not
	// expect: a chart directory's symbolic link to a file outside it.
	Warn func(string)
}

// Load reads the chart ref names: a chart directory, a .tgz file,
// oci://HOST/PATH/NAME[:TAG], or (with opts.Repo) a chart name in a
// classic repository.
func Load(ctx context.Context, ref string, opts LoadOptions) (*Chart, error) {
	var c *Chart
	var err error
	switch {
	case opts.Repo != "":
		c, err = fromRepo(ctx, ref, opts)
	case strings.HasPrefix(ref, "oci://"):
		c, err = fromOCI(ctx, ref, opts)
	default:
		c, err = fromPath(ref, opts.Warn)
		if err == nil && opts.Version != "" && c.Version != opts.Version {
			err = fmt.Errorf("chart %s is version %s, not %s: %w", ref, c.Version, opts.Version, spec.ErrNotFound)
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// fromPath reads a chart directory or archive file.
func fromPath(path string, warn func(string)) (*Chart, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w (give a chart directory, a .tgz, oci://HOST/PATH/NAME, or --repo URL NAME)", path, notFound(err))
	}
	var data []byte
	if st.IsDir() {
		data, err = archiveDir(path, warn)
	} else {
		data, err = readArchiveFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", path, err)
	}
	return loadArchive(data, path)
}

func readArchiveFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, MaxArchiveSize)
}

// readCapped reads r whole, refusing more than max bytes.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than %d bytes: %w", max, spec.ErrTooLarge)
	}
	return data, nil
}

// loadArchive has Helm load the chart from the bytes of its archive.
func loadArchive(data []byte, source string) (*Chart, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %v: %w", source, err, spec.ErrBadInput)
	}
	if ch.Metadata == nil || ch.Metadata.Name == "" {
		return nil, fmt.Errorf("chart %s: Chart.yaml has no name: %w", source, spec.ErrBadInput)
	}
	return &Chart{Name: ch.Metadata.Name, Version: ch.Metadata.Version, Source: source, archive: data, chart: ch}, nil
}

// Archive returns the bytes of the chart's archive: a .tgz or pulled
// chart's exactly, a directory's as archiveDir made them.
func (c *Chart) Archive() []byte { return c.archive }

func notFound(err error) error {
	if os.IsNotExist(err) {
		return spec.Mark(err, spec.ErrNotFound) // its text says so already
	}
	return err
}
