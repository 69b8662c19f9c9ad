package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Artifact returns the chart as the OCI artifact it travels as, named
// charts/<name>:<tag> (spec.ChartRef), and the Fetcher that serves its
// blobs. A chart pulled from a registry is the artifact as the registry
// served it, its digest kept. Any other is the artifact `helm push`
// makes: config the Chart.yaml as JSON (application/vnd.cncf.helm.
// config.v1+json), one layer the archive (application/vnd.cncf.helm.
// chart.content.v1.tar+gzip), Helm's annotations without a creation time,
// so that the same archive always gives the same manifest digest.
func (c *Chart) Artifact() (runtime.Image, runtime.Fetcher, error) {
	if err := spec.ValidateChart(c.Name, c.Version); err != nil {
		return runtime.Image{}, nil, err
	}
	name := spec.ChartRef(c.Name, c.Version)
	if c.pulled != nil {
		return runtime.Image{Name: name, Desc: c.pulled.desc}, c.pulled.src, nil
	}
	blobs := memFetcher{}
	layer := blobs.add(spec.HelmChartMediaType, c.archive)
	cfg, err := json.Marshal(c.chart.Metadata)
	if err != nil {
		return runtime.Image{}, nil, err
	}
	m := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		Config:      blobs.add(spec.HelmConfigMediaType, cfg),
		Layers:      []ocispec.Descriptor{layer},
		Annotations: c.annotations(),
	}
	data, err := json.Marshal(m)
	if err != nil {
		return runtime.Image{}, nil, err
	}
	return runtime.Image{Name: name, Desc: blobs.add(ocispec.MediaTypeImageManifest, data)}, blobs, nil
}

// annotations are the manifest annotations `helm push` writes, but for
// org.opencontainers.image.created (unless Chart.yaml sets it), which
// would change the digest of the same chart at every push.
func (c *Chart) annotations() map[string]string {
	md := c.chart.Metadata
	out := map[string]string{}
	put := func(k, v string) {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	put(ocispec.AnnotationDescription, md.Description)
	put(ocispec.AnnotationTitle, md.Name)
	put(ocispec.AnnotationVersion, md.Version)
	put(ocispec.AnnotationURL, md.Home)
	if len(md.Sources) > 0 {
		put(ocispec.AnnotationSource, md.Sources[0])
	}
	var authors []string
	for _, m := range md.Maintainers {
		if m == nil {
			continue
		}
		a := m.Name
		if m.Email != "" {
			a += " (" + m.Email + ")"
		}
		authors = append(authors, a)
	}
	put(ocispec.AnnotationAuthors, strings.Join(authors, ", "))
	for k, v := range md.Annotations { // as helm: the chart's own win, but for title and version
		if k != ocispec.AnnotationTitle && k != ocispec.AnnotationVersion {
			out[k] = v
		}
	}
	return out
}

// Close releases the registry connections of a pulled chart.
func (c *Chart) Close() error {
	if c.pulled != nil {
		return c.pulled.src.Close()
	}
	return nil
}

// WriteArchive writes the chart archive of the artifact root, read
// through f and verified against its digest as it streams, to w.
func WriteArchive(ctx context.Context, f runtime.Fetcher, root ocispec.Descriptor, w io.Writer) error {
	layer, err := chartLayer(ctx, f, root)
	if err != nil {
		return err
	}
	return runtime.CopyBlob(ctx, w, f, runtime.Blob{Desc: layer})
}

// memFetcher serves blobs held in memory.
type memFetcher map[digest.Digest][]byte

func (m memFetcher) add(mediaType string, data []byte) ocispec.Descriptor {
	d := digest.FromBytes(data)
	m[d] = data
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

func (m memFetcher) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	b, ok := m[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, spec.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
