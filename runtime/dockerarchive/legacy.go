package dockerarchive

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// schema2 and schema2Desc have the fields, in the order, that skopeo's
// docker-archive source marshals, so a synthetic manifest of
// uncompressed layers has the digest skopeo reports.
type schema2 struct {
	SchemaVersion int           `json:"schemaVersion"`
	MediaType     string        `json:"mediaType"`
	Config        schema2Desc   `json:"config"`
	Layers        []schema2Desc `json:"layers"`
}

type schema2Desc struct {
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Digest    digest.Digest `json:"digest"`
}

func (a *Archive) loadLegacy() ([]runtime.Image, error) {
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
			out = append(out, runtime.Image{Name: familiar(tag), Desc: desc})
		}
	}
	return out, nil
}

// synthesise builds the Docker schema2 manifest of one legacy image.
func (a *Archive) synthesise(it ManifestItem) (ocispec.Descriptor, error) {
	config, err := a.tr.ReadFile(it.Config, spec.MaxManifestSize)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := schema2{SchemaVersion: 2, MediaType: spec.DockerManifest, Layers: []schema2Desc{}}
	m.Config = schema2Desc{MediaType: spec.DockerConfig, Size: int64(len(config)), Digest: digest.FromBytes(config)}
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
	return ocispec.Descriptor{MediaType: spec.DockerManifest, Digest: d, Size: int64(len(b))}, nil
}

// hashLayer reads a layer member once: its digest, size and media type
// (by its first bytes: gzip, zstd or a plain tar).
func (a *Archive) hashLayer(name string) (schema2Desc, error) {
	s, err := a.tr.Open(name)
	if err != nil {
		return schema2Desc{}, err
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(s, head)
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(s, 0, s.Size())); err != nil {
		return schema2Desc{}, fmt.Errorf("layer %s: %w", name, err)
	}
	return schema2Desc{MediaType: layerType(head[:n]), Size: s.Size(), Digest: digest.NewDigest(digest.SHA256, h)}, nil
}

// layerType names a layer by its magic bytes. Docker has no zstd layer
// type; zstd layers get the OCI one, as containers/image does.
func layerType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return spec.DockerLayerGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return ocispec.MediaTypeImageLayerZstd
	}
	return spec.DockerLayer
}
