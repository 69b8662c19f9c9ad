package docker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// imageInfo is the part of GET /images/{name}/json ferry reads.
type imageInfo struct {
	ID       string   `json:"Id"`
	RepoTags []string `json:"RepoTags"`
	RootFS   struct {
		Layers []digest.Digest `json:"Layers"`
	} `json:"RootFS"`
}

func inspect(ctx context.Context, c *client, ref string) (imageInfo, error) {
	var info imageInfo
	if err := c.getJSON(ctx, "/images/"+url.PathEscape(ref)+"/json", nil, &info); err != nil {
		return info, fmt.Errorf("image %s: %w", ref, err)
	}
	return info, nil
}

// displayName is ref as Docker shows it ("docker.io/library/app" is
// "app:latest"); for an image ID or a digest reference, the image's first
// tag, or "" when it has none.
func displayName(ref string, info imageInfo) string {
	id := strings.TrimPrefix(info.ID, "sha256:")
	if strings.Contains(ref, "@") || strings.HasPrefix(id, strings.TrimPrefix(ref, "sha256:")) {
		tags := realTags(info.RepoTags)
		if len(tags) == 0 {
			return ""
		}
		return tags[0]
	}
	return runtime.Familiar(runtime.Normalize(ref))
}

func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "<none>:<none>" && t != "" {
			out = append(out, t)
		}
	}
	return out
}

// listItem is one entry of GET /images/json.
type listItem struct {
	ID       string   `json:"Id"`
	RepoTags []string `json:"RepoTags"`
}

// Images returns the name of every tagged image the engine holds, sorted,
// as Docker shows them ("app:1.0"); an image with two tags is listed
// under both.
func Images(ctx context.Context, opts Options) ([]string, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	items, err := list(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		out = append(out, realTags(it.RepoTags)...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func list(ctx context.Context, c *client) ([]listItem, error) {
	var items []listItem
	if err := c.getJSON(ctx, "/images/json", nil, &items); err != nil {
		return nil, fmt.Errorf("docker-daemon (engine %s): list images: %w", c.host, err)
	}
	return items, nil
}

// chains returns every layer ChainID the engine's images use: the
// layers docker load will not open again.
func chains(ctx context.Context, c *client) (map[digest.Digest]bool, error) {
	items, err := list(ctx, c)
	if err != nil {
		return nil, err
	}
	have := map[digest.Digest]bool{}
	for _, it := range items {
		info, err := inspect(ctx, c, it.ID)
		if errors.Is(err, spec.ErrNotFound) {
			continue // removed since the list
		}
		if err != nil {
			return nil, err
		}
		for _, ch := range identity.ChainIDs(info.RootFS.Layers) {
			have[ch] = true
		}
	}
	return have, nil
}
