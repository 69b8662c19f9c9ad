package trip

import (
	"context"
	"encoding/json"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// diffIDs maps each layer under root to its DiffID, read from the image
// configs (rootfs.diff_ids, in layer order), so the catalog knows a layer
// both ways: a layer that a later transport compresses differently can
// still be matched.
func diffIDs(ctx context.Context, f runtime.Fetcher, root ocispec.Descriptor) (map[digest.Digest]digest.Digest, error) {
	out := map[digest.Digest]digest.Digest{}
	err := runtime.Walk(ctx, f, root, func(d ocispec.Descriptor, data []byte) error {
		if data == nil {
			return nil
		}
		var m struct {
			Config ocispec.Descriptor   `json:"config"`
			Layers []ocispec.Descriptor `json:"layers"`
		}
		if json.Unmarshal(data, &m) != nil || m.Config.Digest.Validate() != nil {
			return nil
		}
		cfg, err := runtime.ReadBlob(ctx, f, m.Config, spec.MaxManifestSize)
		if err != nil {
			return err
		}
		var c struct {
			RootFS struct {
				DiffIDs []digest.Digest `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if json.Unmarshal(cfg, &c) != nil || len(c.RootFS.DiffIDs) != len(m.Layers) {
			return nil
		}
		for i, l := range m.Layers {
			if spec.ValidateDigest(c.RootFS.DiffIDs[i]) == nil {
				out[l.Digest] = c.RootFS.DiffIDs[i]
			}
		}
		return nil
	})
	return out, err
}
