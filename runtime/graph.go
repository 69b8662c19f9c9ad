package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// Role is what a blob is in an image's graph, by its place there.
type Role int

const (
	RoleLayer    Role = iota // a manifest's layer
	RoleConfig               // a manifest's config
	RoleManifest             // an image manifest
	RoleIndex                // an image index
)

// String is the role as reports name it.
func (r Role) String() string {
	return [...]string{"layer", "config", "manifest", "index"}[r]
}

// IsNode reports whether the role is a manifest's or an index's.
func (r Role) IsNode() bool { return r >= RoleManifest }

// Blob is one blob of a graph: Node holds a manifest or an index, read
// and parsed, and Data its verified bytes; both are nil for a config or a
// layer.
type Blob struct {
	Desc ocispec.Descriptor
	Role Role
	Data []byte
	Node *Node
}

// Graph is one image's manifest graph, walked once (Walk) and kept: its
// manifests and indexes, read, verified and typed, and the configs read
// since (ReadConfigs). What a trip asks of an image after the walk (its
// blobs and their roles, its platforms, a platform's sub-graph, its
// layers' DiffIDs) it answers from memory, and the graph travels with the
// image (Image.Graph) to every step and target that needs it.
type Graph struct {
	root     ocispec.Descriptor
	complete bool
	*graphStore
}

// graphStore holds the nodes and configs graphs share (a graph and its
// sub-graphs). Nodes are written only while the graph is walked; configs
// are read later, under mu.
type graphStore struct {
	nodes   map[digest.Digest]*Node
	mu      sync.Mutex
	configs map[digest.Digest]*Config
}

func newGraphStore(from *Graph) *graphStore {
	s := &graphStore{nodes: map[digest.Digest]*Node{}, configs: map[digest.Digest]*Config{}}
	if from != nil {
		for d, n := range from.nodes {
			s.nodes[d] = n
		}
		from.mu.Lock()
		for d, c := range from.configs {
			s.configs[d] = c
		}
		from.mu.Unlock()
	}
	return s
}

// Walk walks the graph of img from its root, reading every manifest and
// index once (ReadNode; a node img.Graph holds already is not read
// again), and calls visit, if set, for each blob as it meets it: a
// parent before its children, each digest once. A blob's place says what
// it must be: the root and every child of an index are manifests or
// indexes, typed by their own bytes; a manifest's config and layers are
// leaves, visited with no data (a blob met first as a leaf and later
// where a manifest must be is visited again as that, so no image loses
// its children to another). It returns the graph; on an error, which
// names the blob, the graph holds what was walked before it.
func Walk(ctx context.Context, f Fetcher, img Image, visit func(Blob) error) (*Graph, error) {
	g := &Graph{root: img.Desc, graphStore: newGraphStore(img.Graph)}
	err := g.walk(ctx, f, visit)
	g.complete = err == nil
	return g, err
}

// walk visits the graph from g.root, reading from f the nodes it lacks.
func (g *Graph) walk(ctx context.Context, f Fetcher, visit func(Blob) error) error {
	// seen holds true for a digest walked as a node and false for one
	// visited as a leaf.
	seen := map[digest.Digest]bool{}
	var step func(desc ocispec.Descriptor, role Role) error
	step = func(desc ocispec.Descriptor, role Role) error {
		node := role.IsNode()
		if wasNode, ok := seen[desc.Digest]; ok && (wasNode || !node) {
			return nil
		}
		seen[desc.Digest] = node
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := spec.ValidateDigest(desc.Digest); err != nil {
			return err
		}
		if !node {
			return g.visit(visit, Blob{Desc: desc, Role: role})
		}
		n, err := g.node(ctx, f, desc)
		if err != nil {
			return err
		}
		if desc.Digest == g.root.Digest {
			g.root = n.Desc // the root, typed by its bytes
		}
		role = RoleManifest
		if n.IsIndex() {
			role = RoleIndex
		}
		if err := g.visit(visit, Blob{Desc: n.Desc, Role: role, Data: n.Data, Node: n}); err != nil {
			return err
		}
		if n.IsIndex() {
			for _, k := range n.Manifests {
				if err := step(k, RoleManifest); err != nil {
					return err
				}
			}
			return nil
		}
		if err := step(*n.Config, RoleConfig); err != nil {
			return err
		}
		for _, l := range n.Layers {
			if err := step(l, RoleLayer); err != nil {
				return err
			}
		}
		return nil
	}
	return step(g.root, RoleManifest)
}

func (g *Graph) visit(visit func(Blob) error, b Blob) error {
	if visit == nil {
		return nil
	}
	return visit(b)
}

// node returns the node desc names: the one the graph holds when its
// bytes are of desc's size (typed again when desc names another type),
// else read from f and kept.
func (g *Graph) node(ctx context.Context, f Fetcher, desc ocispec.Descriptor) (*Node, error) {
	if n, ok := g.nodes[desc.Digest]; ok && int64(len(n.Data)) == desc.Size {
		if desc.MediaType == "" || desc.MediaType == n.Desc.MediaType {
			return n, nil
		}
		n, err := ParseNode(desc, n.Data)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
		}
		return n, nil
	}
	if f == nil {
		return nil, fmt.Errorf("manifest %s: not in the graph: %w", desc.Digest, spec.ErrNotFound)
	}
	n, err := ReadNode(ctx, f, desc)
	if err != nil {
		return nil, err
	}
	g.nodes[desc.Digest] = n
	return n, nil
}

// Root is the descriptor of the graph's root, typed by its bytes.
func (g *Graph) Root() ocispec.Descriptor { return g.root }

// Node returns the manifest or index d of the graph.
func (g *Graph) Node(d digest.Digest) (*Node, bool) {
	n, ok := g.nodes[d]
	return n, ok
}

// Holds reports whether the graph keeps blob d in memory: a manifest or
// index it walked, or a config it read; Fetcher serves those without
// asking its source.
func (g *Graph) Holds(d digest.Digest) bool {
	if _, ok := g.nodes[d]; ok {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.configs[d]
	return ok
}

// Blobs returns every blob of a graph Walk completed, as Walk visits
// them: in walk order, each digest once, a blob met as a leaf and as a
// node in its first place with its node's role and data.
func (g *Graph) Blobs() []Blob {
	var out []Blob
	at := map[digest.Digest]int{}
	g.walk(context.Background(), nil, func(b Blob) error {
		if i, ok := at[b.Desc.Digest]; ok {
			out[i] = b
			return nil
		}
		at[b.Desc.Digest] = len(out)
		out = append(out, b)
		return nil
	})
	return out
}

// Sub returns the graph rooted at its node desc (a manifest of an index,
// say), sharing what the graph holds; it is complete when the graph is.
func (g *Graph) Sub(desc ocispec.Descriptor) *Graph {
	return &Graph{root: desc, complete: g.complete, graphStore: g.graphStore}
}

// With returns a graph of n's graph rooted at n, a node made in memory
// (an index of some of the platforms of g's root), that holds every node
// of g.
func (g *Graph) With(n *Node) *Graph {
	s := newGraphStore(g)
	s.nodes[n.Desc.Digest] = n
	return &Graph{root: n.Desc, complete: g.complete, graphStore: s}
}

// Config returns the config desc names: the one the graph read already,
// else read from f (ReadConfig) and kept.
func (g *Graph) Config(ctx context.Context, f Fetcher, desc ocispec.Descriptor) (*Config, error) {
	g.mu.Lock()
	c, ok := g.configs[desc.Digest]
	g.mu.Unlock()
	if ok && c.Desc.Size == desc.Size {
		return c, nil
	}
	c, err := ReadConfig(ctx, f, desc)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.configs[desc.Digest] = c
	g.mu.Unlock()
	return c, nil
}

// manifests returns the image manifests of a complete graph.
func (g *Graph) manifests() []*Node {
	var out []*Node
	for _, b := range g.Blobs() {
		if b.Role == RoleManifest {
			out = append(out, b.Node)
		}
	}
	return out
}

// ReadConfigs reads, from f, every config of the graph it has not read
// yet, so that DiffIDs and Created can answer.
func (g *Graph) ReadConfigs(ctx context.Context, f Fetcher) error {
	for _, m := range g.manifests() {
		if _, err := g.Config(ctx, f, *m.Config); err != nil {
			return fmt.Errorf("manifest %s: %w", m.Desc.Digest, err)
		}
	}
	return nil
}

// config returns the config of manifest m if the graph read it.
func (g *Graph) config(m *Node) (*Config, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.configs[m.Config.Digest]
	return c, ok
}

// DiffIDs maps each layer of the graph to its DiffID, from the configs
// read (rootfs.diff_ids, in layer order): a manifest whose config lists
// another number of them, or an invalid one, gives none for those.
func (g *Graph) DiffIDs() map[digest.Digest]digest.Digest {
	out := map[digest.Digest]digest.Digest{}
	for _, m := range g.manifests() {
		c, ok := g.config(m)
		if !ok {
			continue
		}
		ids := c.DiffIDs()
		if len(ids) != len(m.Layers) {
			continue
		}
		for i, l := range m.Layers {
			if spec.ValidateDigest(ids[i]) == nil {
				out[l.Digest] = ids[i]
			}
		}
	}
	return out
}

// Created is the newest created time of the configs read; zero when none
// says.
func (g *Graph) Created() time.Time {
	var newest time.Time
	for _, m := range g.manifests() {
		if c, ok := g.config(m); ok && c.Created().After(newest) {
			newest = c.Created()
		}
	}
	return newest
}

// Platforms returns "os/arch[/variant]" (FormatPlatform) for each manifest
// of an index root, from its descriptor ("unknown" when it has none), or
// for a manifest root, from its config (read from f unless the graph has
// it).
func (g *Graph) Platforms(ctx context.Context, f Fetcher) ([]string, error) {
	root, ok := g.nodes[g.root.Digest]
	if !ok {
		return nil, fmt.Errorf("manifest %s: not in the graph: %w", g.root.Digest, spec.ErrNotFound)
	}
	if root.IsIndex() {
		out := make([]string, 0, len(root.Manifests))
		for _, k := range root.Manifests {
			out = append(out, FormatPlatform(k.Platform))
		}
		return out, nil
	}
	c, err := g.Config(ctx, f, *root.Config)
	if err != nil {
		return nil, err
	}
	p, err := c.Platform()
	if err != nil {
		return nil, err
	}
	return []string{FormatPlatform(p)}, nil
}

// Fetcher serves the graph's manifests, indexes and configs from memory
// and every other blob from f, keeping f's ability to fetch ahead
// (Distant).
func (g *Graph) Fetcher(f Fetcher) Fetcher { return graphFetcher{g: g, f: f} }

type graphFetcher struct {
	g *Graph
	f Fetcher
}

func (gf graphFetcher) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if n, ok := gf.g.nodes[desc.Digest]; ok {
		return io.NopCloser(bytes.NewReader(n.Data)), nil
	}
	gf.g.mu.Lock()
	c, ok := gf.g.configs[desc.Digest]
	gf.g.mu.Unlock()
	if ok {
		return io.NopCloser(bytes.NewReader(c.Data)), nil
	}
	return gf.f.Fetch(ctx, desc)
}

// FetchAhead keeps the ability of the Fetcher it serves from (Distant).
func (gf graphFetcher) FetchAhead() int {
	if d, ok := gf.f.(Distant); ok {
		return d.FetchAhead()
	}
	return 0
}

// GraphOf returns img's graph, walked from f unless img carries a
// complete one.
func GraphOf(ctx context.Context, f Fetcher, img Image) (*Graph, error) {
	return graphOf(ctx, f, img, nil)
}

// graphOf is GraphOf that reads no node known holds.
func graphOf(ctx context.Context, f Fetcher, img Image, known *Graph) (*Graph, error) {
	if g := img.Graph; g != nil && g.complete && g.root.Digest == img.Desc.Digest {
		return g, nil
	}
	if img.Graph == nil {
		img.Graph = known
	}
	g, err := Walk(ctx, f, img, nil)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img, err)
	}
	return g, nil
}

// Collect returns the blobs the images need, each digest once, in walk
// order (a blob first met as a leaf and later as a manifest keeps its
// place and gets its data): from each image's graph, walked from f
// unless the image carries it (GraphOf), a manifest that several images
// share read once.
func Collect(ctx context.Context, f Fetcher, images []Image) ([]Blob, error) {
	var out []Blob
	at := map[digest.Digest]int{}
	var known *Graph
	for _, img := range images {
		g, err := graphOf(ctx, f, img, known)
		if err != nil {
			return nil, err
		}
		known = g
		for _, b := range g.Blobs() {
			if i, ok := at[b.Desc.Digest]; ok {
				if b.Role.IsNode() {
					out[i] = b
				}
				continue
			}
			at[b.Desc.Digest] = len(out)
			out = append(out, b)
		}
	}
	return out, nil
}
