// Package shipment reads a shipment file: the YAML a team keeps in git
// that says what one bundle carries — Helm charts, each with its own
// version, repository, values and images to add or skip, and plain
// images. spec/manifest-v1.md is its normative description.
//
// The file is decoded with go.yaml.in/yaml/v3 in strict mode
// (KnownFields): it is the YAML library the Helm SDK already brings, and
// the one whose strict decoder names the line of an unknown field, of a
// duplicate key and of a value of the wrong type, which is what a person
// editing the file needs.
package shipment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ferryhq/ferry/spec"
)

// APIVersion and Kind are the values this version's files declare.
const (
	APIVersion = "ferry/v1"
	Kind       = "Shipment"
)

// MaxSize caps a shipment file.
const MaxSize = 1 << 20

// File is a shipment file.
type File struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Images are image names as the command line takes them.
	Images []string `yaml:"images,omitempty"`
	// Charts are the charts to ship, each with the images it needs.
	Charts []Chart `yaml:"charts,omitempty"`
}

// Chart is one chart to ship and how to render it, as `ferry save
// --chart` and its flags say it.
type Chart struct {
	// Chart is a chart directory or .tgz (relative to the file),
	// oci://HOST/PATH/NAME, or with Repo the name of a chart in it.
	Chart        string   `yaml:"chart"`
	Repo         string   `yaml:"repo,omitempty"`
	Version      string   `yaml:"version,omitempty"`
	Values       []string `yaml:"values,omitempty"` // files, relative to the file
	Set          []string `yaml:"set,omitempty"`    // K=V, as helm --set
	SetString    []string `yaml:"setString,omitempty"`
	KubeVersion  string   `yaml:"kubeVersion,omitempty"`
	ReleaseName  string   `yaml:"releaseName,omitempty"`
	Namespace    string   `yaml:"namespace,omitempty"`
	IncludeTests bool     `yaml:"includeTests,omitempty"`
	AddImages    []string `yaml:"addImages,omitempty"`
	SkipImages   []string `yaml:"skipImages,omitempty"`
}

// Read reads and parses the shipment file at path. Relative chart paths
// and values files are resolved against the file's directory.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("shipment file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("shipment file %s: %w", path, err)
	}
	s, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("shipment file %s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a shipment file strictly: its apiVersion first (a version
// it does not read is refused naming it), then the whole file, refusing
// an unknown field, a duplicate key or a second document with the line
// where it is. Relative chart paths and values files are joined to dir.
// Errors wrap spec.ErrBadInput (spec.ErrUnsupportedVersion for the
// version).
func Parse(data []byte, dir string) (*File, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("more than %d bytes: %w", MaxSize, spec.ErrTooLarge)
	}
	var head struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%v: %w", err, spec.ErrBadInput)
	}
	if head.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion %q: %w (this ferry reads %s)", head.APIVersion, spec.ErrUnsupportedVersion, APIVersion)
	}
	if head.Kind != Kind {
		return nil, fmt.Errorf("kind %q, want %s: %w", head.Kind, Kind, spec.ErrBadInput)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%v: %w", err, spec.ErrBadInput)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("%v: %w", err, spec.ErrBadInput)
	default:
		return nil, fmt.Errorf("line %d: a second document; a shipment file holds one: %w", extra.Line, spec.ErrBadInput)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	f.resolve(dir)
	return &f, nil
}

// check refuses what the decoder cannot: empty names.
func (f *File) check() error {
	for i, im := range f.Images {
		if strings.TrimSpace(im) == "" {
			return fmt.Errorf("images[%d]: empty: %w", i, spec.ErrBadInput)
		}
	}
	for i, c := range f.Charts {
		if strings.TrimSpace(c.Chart) == "" {
			return fmt.Errorf("charts[%d]: no chart: name a directory, a .tgz, oci://HOST/PATH/NAME, or a chart of repo: %w", i, spec.ErrBadInput)
		}
		for _, v := range c.Values {
			if v == "" {
				return fmt.Errorf("charts[%d] (%s): values: an empty file name: %w", i, c.Chart, spec.ErrBadInput)
			}
		}
	}
	if len(f.Images) == 0 && len(f.Charts) == 0 {
		return fmt.Errorf("no images and no charts: %w", spec.ErrBadInput)
	}
	return nil
}

// resolve joins relative chart paths and values files to dir.
func (f *File) resolve(dir string) {
	for i := range f.Charts {
		c := &f.Charts[i]
		if c.Repo == "" && !strings.HasPrefix(c.Chart, "oci://") {
			c.Chart = join(dir, c.Chart)
		}
		for j, v := range c.Values {
			c.Values[j] = join(dir, v)
		}
	}
}

func join(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}
