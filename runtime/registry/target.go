package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Target writes images to a registry.
type Target struct {
	host   string         // HOST[:PORT]
	prefix string         // repository prefix, "" for none
	exact  name.Reference // set when the target names one image's reference
	c      *client

	mu      sync.Mutex
	written map[digest.Digest]name.Repository // a repository this Target put each blob in
	sent    map[sentBlob]bool                 // every blob this Target put in each repository
}

// sentBlob is a blob in a repository.
type sentBlob struct {
	repo string
	d    digest.Digest
}

var (
	_ runtime.Target      = (*Target)(nil)
	_ runtime.BlobChecker = (*Target)(nil)
	_ runtime.BlobSender  = (*Target)(nil)
	_ runtime.Namer       = (*Target)(nil)
)

// NewTarget opens base, "[docker://]HOST[:PORT][/PREFIX]": each image is
// pushed to HOST/PREFIX/<repository path>:<tag>, its repository path
// being its name without the registry host (see repositoryPath:
// "example.com/ns/app:1.0" goes to HOST/PREFIX/ns/app:1.0, "app:1.0" to
// HOST/PREFIX/app:1.0, a name with only a digest is pushed by digest),
// and an image named only by a tag to PREFIX itself ("v1" of oci:DIR:v1
// goes to HOST/PREFIX:v1; with no PREFIX it is refused). A base whose
// last component has a tag or digest,
// "HOST[:PORT]/REPO:TAG", is the exact reference of the one image
// written, as in skopeo. Nothing is requested before Write or Exists.
func NewTarget(base string, opts Options) (*Target, error) {
	base = strings.TrimSuffix(strings.TrimPrefix(base, runtime.TransportRegistry+"://"), "/")
	host, prefix, _ := strings.Cut(base, "/")
	reg, err := name.NewRegistry(host, opts.nameOptions()...)
	if err != nil || host == "" {
		return nil, fmt.Errorf("docker://%s: not HOST[:PORT][/PREFIX]: %v: %w", base, err, spec.ErrBadInput)
	}
	t := &Target{host: reg.RegistryStr(), prefix: prefix, written: map[digest.Digest]name.Repository{}, sent: map[sentBlob]bool{}}
	last := prefix[strings.LastIndex(prefix, "/")+1:]
	if strings.ContainsAny(last, ":@") {
		if t.exact, err = name.ParseReference(base, opts.nameOptions()...); err != nil {
			return nil, fmt.Errorf("docker://%s: %v: %w", base, err, spec.ErrBadInput)
		}
	} else if prefix != "" {
		if _, err := name.NewRepository(base, opts.nameOptions()...); err != nil {
			return nil, fmt.Errorf("docker://%s: invalid prefix: %v: %w", base, err, spec.ErrBadInput)
		}
	}
	if t.c, err = newClient(opts, reg); err != nil {
		return nil, err
	}
	return t, nil
}

// Write pushes every image: for each, its blobs (those the repository
// lacks: HEAD first, then a cross-repository mount from a repository this
// Target has written, then a streamed upload) and the manifests under
// its root, by digest; then, once every image's content is in, each root
// manifest with its exact bytes by tag (or by digest for a digest-only
// name). A failure before the tags leaves no tag moved.
func (t *Target) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	refs, err := t.destinations(images)
	if err != nil {
		return err
	}
	if err := runtime.Distinct(images, refStrings(refs)); err != nil {
		return fmt.Errorf("docker://%s: %w", t.base(), err)
	}
	roots := make([]runtime.Blob, len(images))
	held := make([]bool, len(images))
	for i, img := range images {
		if held[i] = t.holds(ctx, refs[i], img.Desc); held[i] {
			continue
		}
		if roots[i], err = t.pushContent(ctx, refs[i], img, src); err != nil {
			return err
		}
	}
	for i, root := range roots {
		if held[i] {
			continue
		}
		if err := t.putManifest(ctx, refs[i], root); err != nil {
			return t.c.explain(err, t.host, refs[i].String())
		}
	}
	return nil
}

// holds reports whether ref already names exactly root: then the
// registry holds the image whole (it accepted that manifest only with
// every blob it names) and there is nothing to send, as crane's push
// finds. Any failure of the check only means the push goes on.
func (t *Target) holds(ctx context.Context, ref name.Reference, root ocispec.Descriptor) bool {
	rc, err := t.c.repo(ctx, ref.Context(), true)
	if err != nil {
		return false
	}
	d, err := rc.puller.Head(ctx, ref)
	return err == nil && d.Digest.String() == root.Digest.String()
}

// SendBlobs uploads the blobs of each image that its repository lacks,
// Options.Jobs at a time, and no manifest: nothing is named or tagged
// until Write, which then skips the blobs sent.
func (t *Target) SendBlobs(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	refs, err := t.destinations(images)
	if err != nil {
		return err
	}
	for i, img := range images {
		where := "docker://" + refs[i].String()
		blobs, err := runtime.Collect(ctx, src, []runtime.Image{img})
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := t.uploadAll(ctx, refs[i].Context(), blobs, src); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// Exists reports whether the registry holds desc in the target's
// repository (a target naming one reference) or in a repository this
// Target has written to. A registry keeps blobs per repository, so a
// fresh Target with a prefix knows of none.
func (t *Target) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return false, err
	}
	for _, repo := range t.repositories() {
		rc, err := t.c.repo(ctx, repo, true)
		if err != nil {
			return false, t.c.explain(err, t.host, repo.String())
		}
		l, err := rc.puller.Layer(ctx, repo.Digest(desc.Digest.String()))
		if err != nil {
			return false, t.c.explain(err, t.host, repo.String())
		}
		if ok, err := partial.Exists(l); err != nil || ok {
			return ok, t.c.explain(err, t.host, repo.String())
		}
	}
	return false, nil
}

// Close releases idle connections.
func (t *Target) Close() error {
	if tr, ok := t.c.tr.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	return nil
}

func (t *Target) repositories() []name.Repository {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := map[name.Repository]bool{}
	var out []name.Repository
	if t.exact != nil {
		seen[t.exact.Context()] = true
		out = append(out, t.exact.Context())
	}
	for _, r := range t.written {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// Names returns the reference each image is pushed to (see NewTarget).
func (t *Target) Names(images []runtime.Image) ([]string, error) {
	refs, err := t.destinations(images)
	if err != nil {
		return nil, err
	}
	return refStrings(refs), nil
}

func refStrings(refs []name.Reference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

func (t *Target) base() string { return strings.Trim(t.host+"/"+t.prefix, "/") }

// destinations returns where each image is pushed. An image named only
// by a tag goes to the prefix as its repository (docker://HOST/x gives
// "v1" HOST/x:v1); without a prefix it has none and is refused.
func (t *Target) destinations(images []runtime.Image) ([]name.Reference, error) {
	if t.exact != nil {
		if len(images) != 1 {
			return nil, spec.Mark(fmt.Errorf("docker://%s: names one image, got %d: give HOST[:PORT][/PREFIX] to push several",
				t.exact, len(images)), spec.ErrBadInput)
		}
		return []name.Reference{t.exact}, nil
	}
	refs := make([]name.Reference, len(images))
	for i, img := range images {
		if img.Name == "" {
			return nil, spec.Mark(fmt.Errorf("docker://%s: image %s has no name: give the target a reference, docker://HOST/REPO:TAG",
				t.host, img.Desc.Digest), spec.ErrBadInput)
		}
		var s string
		if runtime.IsBareTag(img.Name) {
			if t.prefix == "" {
				return nil, runtime.NeedRepository("docker://"+t.host, img.Name)
			}
			s = t.base() + ":" + img.Name
		} else {
			path, ref := repositoryPath(img.Name)
			if strings.HasPrefix(ref, "@") {
				ref = "@" + img.Desc.Digest.String()
			}
			s = t.base() + "/" + path + ref
		}
		r, err := name.ParseReference(s, t.c.opts.nameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("image %s: cannot push to docker://%s: %v: %w", img.Name, s, err, spec.ErrBadInput)
		}
		refs[i] = r
	}
	return refs, nil
}

// pushContent puts everything the image needs in ref's repository but
// its root manifest, which it returns.
func (t *Target) pushContent(ctx context.Context, ref name.Reference, img runtime.Image, src runtime.Fetcher) (runtime.Blob, error) {
	where := "docker://" + ref.String()
	blobs, err := runtime.Collect(ctx, src, []runtime.Image{img})
	if err != nil {
		return runtime.Blob{}, fmt.Errorf("%s: %w", where, err)
	}
	repo := ref.Context()
	if err := t.uploadAll(ctx, repo, blobs, src); err != nil {
		return runtime.Blob{}, fmt.Errorf("%s: %w", where, err)
	}
	manifests := postOrder(blobs)
	for _, m := range manifests[:len(manifests)-1] {
		if err := t.putManifest(ctx, repo.Digest(m.Desc.Digest.String()), m); err != nil {
			return runtime.Blob{}, t.c.explain(err, t.host, ref.String())
		}
	}
	return manifests[len(manifests)-1], nil
}

// uploadAll uploads the blobs that are not manifests, Options.Jobs at a
// time.
func (t *Target) uploadAll(ctx context.Context, repo name.Repository, blobs []runtime.Blob, src runtime.Fetcher) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.c.opts.jobs())
	for _, b := range blobs {
		if b.Data != nil {
			continue
		}
		g.Go(func() error { return t.upload(gctx, repo, b.Desc, src) })
	}
	return g.Wait()
}

func (t *Target) upload(ctx context.Context, repo name.Repository, desc ocispec.Descriptor, src runtime.Fetcher) error {
	l := &blobLayer{ctx: ctx, desc: desc, src: src, prog: t.c.opts.Progress}
	var layer v1.Layer = l
	t.mu.Lock()
	from, ok := t.written[desc.Digest]
	sent := t.sent[sentBlob{repo.String(), desc.Digest}]
	t.mu.Unlock()
	if sent {
		return nil // by this Target already (SendBlobs)
	}
	if ok && from != repo {
		layer = &remote.MountableLayer{Layer: l, Reference: from.Digest(desc.Digest.String())}
	}
	rc, err := t.c.repo(ctx, repo, true)
	if err == nil {
		err = rc.pusher.Upload(ctx, repo, layer)
	}
	if err != nil {
		if ferr := l.failure(); ferr != nil {
			return ferr
		}
		return t.c.explain(fmt.Errorf("blob %s: %w", desc.Digest, err), t.host, repo.String())
	}
	t.mu.Lock()
	t.written[desc.Digest] = repo
	t.sent[sentBlob{repo.String(), desc.Digest}] = true
	t.mu.Unlock()
	return nil
}

func (t *Target) putManifest(ctx context.Context, ref name.Reference, b runtime.Blob) error {
	rc, err := t.c.repo(ctx, ref.Context(), true)
	if err != nil {
		return err
	}
	return rc.pusher.Put(ctx, ref, rawManifest{data: b.Data, mediaType: types.MediaType(b.Desc.MediaType)})
}

// rawManifest is a manifest pushed with its exact bytes, so that its
// digest is kept.
type rawManifest struct {
	data      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.data, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// postOrder returns the manifests and indexes of blobs (Collect's output
// for one image, root first) with every manifest after those it refers
// to: the order a registry accepts them in. The root is last.
func postOrder(blobs []runtime.Blob) []runtime.Blob {
	docs := map[digest.Digest]runtime.Blob{}
	for _, b := range blobs {
		if b.Data != nil {
			docs[b.Desc.Digest] = b
		}
	}
	var out []runtime.Blob
	done := map[digest.Digest]bool{}
	var visit func(b runtime.Blob)
	visit = func(b runtime.Blob) {
		done[b.Desc.Digest] = true
		kids, _ := runtime.Children(b.Desc.MediaType, b.Data) // Walk parsed them already
		for _, k := range kids {
			if kb, ok := docs[k.Digest]; ok && !done[k.Digest] {
				visit(kb)
			}
		}
		out = append(out, b)
	}
	visit(blobs[0])
	return out
}
