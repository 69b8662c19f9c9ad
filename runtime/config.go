package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// Config is an image config, read whole (at most spec.MaxManifestSize)
// and verified. It answers the questions a trip asks of it, each from
// its own field, so that one malformed field costs only its answer.
type Config struct {
	Desc ocispec.Descriptor
	Data []byte
}

// ReadConfig reads the config desc names: refused over
// spec.MaxManifestSize before it is fetched, verified. Errors name it.
func ReadConfig(ctx context.Context, f Fetcher, desc ocispec.Descriptor) (*Config, error) {
	data, err := ReadBlob(ctx, f, desc, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &Config{Desc: desc, Data: data}, nil
}

// Platform is the platform the config names (os, architecture,
// variant); the error wraps spec.ErrCorrupt when it is no JSON object.
func (c *Config) Platform() (*ocispec.Platform, error) {
	var p ocispec.Platform
	if err := json.Unmarshal(c.Data, &p); err != nil {
		return nil, fmt.Errorf("config %s: %v: %w", c.Desc.Digest, err, spec.ErrCorrupt)
	}
	return &p, nil
}

// Created is the config's created time; zero when it has none or it does
// not parse.
func (c *Config) Created() time.Time {
	var v struct {
		Created *time.Time `json:"created"`
	}
	if json.Unmarshal(c.Data, &v) != nil || v.Created == nil {
		return time.Time{}
	}
	return *v.Created
}

// DiffIDs are the config's rootfs.diff_ids, in layer order; nil when it
// has none or they do not parse.
func (c *Config) DiffIDs() []digest.Digest {
	var v struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if json.Unmarshal(c.Data, &v) != nil {
		return nil
	}
	return v.RootFS.DiffIDs
}
