package dockerarchive

import (
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

func (a *Source) loadLegacy() ([]runtime.Image, error) {
	data, err := a.tr.ReadFile(ManifestEntry, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.where, err)
	}
	var items []ManifestItem
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %v: %w", a.where, err, spec.ErrCorrupt)
	}
	a.synth = map[digest.Digest][]byte{}
	a.members = map[digest.Digest]string{}
	var out []runtime.Image
	for _, it := range items {
		desc, err := a.synthesise(it)
		if err != nil {
			return nil, fmt.Errorf("%s: image %v: %w", a.where, it.RepoTags, err)
		}
		if len(it.RepoTags) == 0 {
			out = append(out, runtime.Image{Desc: desc})
		}
		for _, tag := range it.RepoTags {
			out = append(out, runtime.Image{Name: runtime.Familiar(tag), Desc: desc})
		}
	}
	return out, nil
}

// synthesise builds the manifest of one legacy image, which Docker does
// not keep: an OCI image manifest (so that skopeo's oci:DIR:NAME, umoci and
// every OCI tool read it), the config typed as an OCI config (its bytes,
// and so the image ID, untouched), each layer typed by what its bytes are
// (runtime.LayerMediaType), encoded by encoding/json in ocispec.Manifest's field order.
// The same archive gives the same bytes, and so does the same image
// exported by another engine: Docker exports a layer as the same tar.
func (a *Source) synthesise(it ManifestItem) (ocispec.Descriptor, error) {
	config, err := a.tr.ReadFile(it.Config, spec.MaxManifestSize)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Layers: []ocispec.Descriptor{}}
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Size: int64(len(config)), Digest: digest.FromBytes(config)}
	a.members[m.Config.Digest] = it.Config
	for _, name := range it.Layers {
		l, err := a.hashLayer(name)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		a.members[l.Digest] = name
		m.Layers = append(m.Layers, l)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := digest.FromBytes(b)
	a.synth[d] = b
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(b))}, nil
}

// hashLayer describes a layer member (reading it once, from a file; from
// a stream it was hashed as it went by): digest, size, and media type by
// its first bytes.
func (a *Source) hashLayer(name string) (ocispec.Descriptor, error) {
	d, err := a.tr.Describe(name)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("layer %s: %w", name, err)
	}
	return d, nil
}
