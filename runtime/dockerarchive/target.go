package dockerarchive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// Target writes images as a new docker archive.
type Target struct {
	file string
	ref  string
}

var (
	_ runtime.Target = (*Target)(nil)
	_ runtime.Namer  = (*Target)(nil)
)

// NewTarget returns a Target that writes the archive file; ref, if set,
// is the name (RepoTag) of the one image written.
func NewTarget(file, ref string) *Target { return &Target{file: file, ref: ref} }

// Names returns the RepoTag each image gets (RepoTags; ref for the one
// image when the target has one).
func (t *Target) Names(images []runtime.Image) ([]string, error) {
	images, err := t.named(images)
	if err != nil {
		return nil, err
	}
	return RepoTags(t.where(), images)
}

func (t *Target) where() string { return "docker-archive:" + t.file }

func (t *Target) named(images []runtime.Image) ([]runtime.Image, error) {
	if t.ref == "" {
		return images, nil
	}
	if len(images) != 1 {
		return nil, fmt.Errorf("%s: reference %q names one image, got %d: %w", t.where(), t.ref, len(images), spec.ErrBadInput)
	}
	return []runtime.Image{{Name: t.ref, Desc: images[0].Desc}}, nil
}

// Write writes a tar that docker load and skopeo read: oci-layout,
// index.json, manifest.json (configs and layers as blobs/sha256/<hex>,
// RepoTags as RepoTags names them), then the blobs sorted by digest. An
// image index is replaced by the manifest a Linux engine on this machine
// runs (runtime.EnginePlatform). The file is
// written to a temporary file and renamed; an existing file is replaced.
// Images that would share a RepoTag are refused before anything is
// written.
func (t *Target) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	images, err := t.named(images)
	if err != nil {
		return err
	}
	a, err := build(ctx, t.where(), images, src)
	if err != nil {
		return fmt.Errorf("%s: %w", t.where(), err)
	}
	if err := tarfile.WriteLayout(ctx, t.file, a.index, a.files, a.blobs, src); err != nil {
		return fmt.Errorf("%s: %w", t.where(), err)
	}
	return nil
}

// RepoTags returns the name Docker gives each image (RepoTag), refusing
// images that would share one (runtime.Distinct). where names the target
// in errors.
func RepoTags(where string, images []runtime.Image) ([]string, error) {
	tags := make([]string, len(images))
	for i, img := range images {
		tag, err := RepoTag(where, img.Name)
		if err != nil {
			return nil, err
		}
		tags[i] = tag
	}
	return tags, runtime.Distinct(images, tags)
}

// RepoTag is the name Docker gives an image named name, as docker images
// shows it: the familiar form of the reference ("docker.io/library/app:1.0"
// and "app" are "app:1.0" and "app:latest"), "" for no name or a name
// pinned only by digest (docker load leaves the image untagged). A name
// that is only a tag has no repository: runtime.NeedRepository.
func RepoTag(where, name string) (string, error) {
	switch {
	case name == "":
		return "", nil
	case runtime.IsBareTag(name):
		return "", runtime.NeedRepository(where, name)
	}
	name = runtime.Normalize(name)
	tag := runtime.TagOf(name)
	if tag == "" {
		return "", nil
	}
	return runtime.Familiar(runtime.Repository(name) + ":" + tag), nil
}

// archive is what a docker archive of some images holds besides blobs.
type archive struct {
	index []byte
	files []tarfile.File
	blobs []runtime.Blob
}

// build names the images (RepoTags), replaces an index by its
// engine platform manifest, and makes manifest.json and index.json.
func build(ctx context.Context, where string, images []runtime.Image, src runtime.Fetcher) (archive, error) {
	tags, err := RepoTags(where, images)
	if err != nil {
		return archive{}, err
	}
	var named []runtime.Image
	for i, img := range images {
		one, err := singlePlatform(ctx, src, img)
		if err != nil {
			return archive{}, err
		}
		one.Name = tags[i]
		named = append(named, one)
	}
	blobs, err := runtime.Collect(ctx, src, named)
	if err != nil {
		return archive{}, err
	}
	manifest, err := manifestJSON(named, blobs)
	if err != nil {
		return archive{}, err
	}
	var entries []ocispec.Descriptor
	for _, img := range named {
		img.Name = runtime.Qualified(img.Name)
		entries = ocilayout.Merge(entries, []ocispec.Descriptor{ocilayout.Entry(img)})
	}
	index, err := ocilayout.EncodeIndex(entries)
	if err != nil {
		return archive{}, err
	}
	return archive{index: index, files: []tarfile.File{{Name: ManifestEntry, Data: manifest}}, blobs: blobs}, nil
}

// singlePlatform returns img, or for an index the manifest of it that a
// Linux engine on this machine runs (runtime.EnginePlatform).
func singlePlatform(ctx context.Context, src runtime.Fetcher, img runtime.Image) (runtime.Image, error) {
	one, err := runtime.SelectPlatform(ctx, src, img, runtime.EnginePlatform())
	if err != nil {
		return img, fmt.Errorf("a docker archive holds one platform per image: %w", err)
	}
	if one.Desc.Digest != img.Desc.Digest && !spec.IsManifest(one.Desc.MediaType) {
		return img, fmt.Errorf("image %s: the manifest for %s is %q, not an image manifest: %w",
			img, platforms.Format(runtime.EnginePlatform()), one.Desc.MediaType, spec.ErrBadInput)
	}
	return one, nil
}

// manifestJSON builds manifest.json: one item per manifest, in image
// order, with the RepoTags of every image that has it.
func manifestJSON(images []runtime.Image, blobs []runtime.Blob) ([]byte, error) {
	data := map[string][]byte{}
	for _, b := range blobs {
		data[string(b.Desc.Digest)] = b.Data
	}
	var items []ManifestItem
	at := map[string]int{}
	for _, img := range images {
		d := string(img.Desc.Digest)
		i, seen := at[d]
		if !seen {
			it, err := item(img, data[d])
			if err != nil {
				return nil, err
			}
			i = len(items)
			at[d] = i
			items = append(items, it)
		}
		if img.Name != "" && !slices.Contains(items[i].RepoTags, img.Name) {
			items[i].RepoTags = append(items[i].RepoTags, img.Name)
		}
	}
	return json.Marshal(items)
}

func item(img runtime.Image, manifest []byte) (ManifestItem, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return ManifestItem{}, fmt.Errorf("image %s: manifest: %v: %w", img, err, spec.ErrCorrupt)
	}
	it := ManifestItem{Config: blobName(m.Config), Layers: []string{}}
	for _, l := range m.Layers {
		it.Layers = append(it.Layers, blobName(l))
	}
	return it, nil
}

func blobName(d ocispec.Descriptor) string { return spec.BlobPrefix + d.Digest.Encoded() }

// Close does nothing.
func (t *Target) Close() error { return nil }
