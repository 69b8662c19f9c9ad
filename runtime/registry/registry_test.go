package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// fast retries, so that tests of failures take milliseconds.
var fast = registry.Options{Retries: 3, RetryDelay: 5 * 1e6}

func TestConformance(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	var n atomic.Int32
	runtimetest.Run(t, "registry", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			prefix := fmt.Sprintf("c%d", n.Add(1))
			tgt, err := registry.NewTarget("docker://"+reg.Host+"/"+prefix, fast)
			if err != nil {
				t.Fatal(err)
			}
			return tgt, func() (runtime.Source, error) { return openPrefix(reg.Host, prefix, "example.com") }
		},
	})
}

// prefixSource reads every tagged image under HOST/PREFIX, naming each as
// the suite wrote it: the prefix replaced by origin.
type prefixSource struct {
	srcs  []*registry.Source
	names []string
}

func openPrefix(host, prefix, origin string) (runtime.Source, error) {
	ctx := context.Background()
	reg, err := name.NewRegistry(host)
	if err != nil {
		return nil, err
	}
	repos, err := remote.Catalog(ctx, reg)
	if err != nil {
		return nil, err
	}
	ps := &prefixSource{}
	for _, repo := range repos {
		rest, ok := strings.CutPrefix(repo, prefix+"/")
		if !ok {
			continue
		}
		tags, err := remote.List(reg.Repo(repo))
		if err != nil {
			continue
		}
		for _, tag := range tags {
			src, err := registry.FromReference(host+"/"+repo+":"+tag, registry.Options{})
			if err != nil {
				return nil, err
			}
			ps.srcs = append(ps.srcs, src)
			ps.names = append(ps.names, origin+"/"+rest+":"+tag)
		}
	}
	return ps, nil
}

func (p *prefixSource) Resolve(ctx context.Context) ([]runtime.Image, error) {
	var out []runtime.Image
	for i, s := range p.srcs {
		imgs, err := s.Resolve(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, runtime.Image{Name: p.names[i], Desc: imgs[0].Desc})
	}
	return out, nil
}

func (p *prefixSource) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	err := fmt.Errorf("blob %s: %w", desc.Digest, spec.ErrNotFound)
	for _, s := range p.srcs {
		var rc io.ReadCloser
		if rc, err = s.Fetch(ctx, desc); err == nil || !errors.Is(err, spec.ErrNotFound) {
			return rc, err
		}
	}
	return nil, err
}

func (p *prefixSource) Close() error { return nil }

// pushUmoci makes an umoci image and pushes it with skopeo to
// docker://HOST/REPO:TAG, returning its manifest descriptor.
func pushUmoci(t *testing.T, host, repoTag string, seed int64, layers, size int) ocispec.Descriptor {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	desc := runtimetest.UmociImage(t, dir, "v", seed, layers, size)
	runtimetest.Skopeo(t, "copy", "--dest-tls-verify=false", "oci:"+dir+":v", "docker://"+host+"/"+repoTag)
	return desc
}
