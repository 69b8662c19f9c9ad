package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ferryhq/ferry/spec"
)

// maxIndexSize caps a repository's index.yaml (large public repositories
// serve tens of megabytes).
const maxIndexSize = 128 << 20

// repoIndex is what ferry reads of a repository's index.yaml.
type repoIndex struct {
	APIVersion string                 `json:"apiVersion"`
	Entries    map[string][]repoEntry `json:"entries"`
}

type repoEntry struct {
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest"`
}

// fromRepo reads a chart from a classic repository: its index.yaml, the
// version chosen as Helm chooses it (opts.Version exact, else as a
// constraint, else the newest stable one), then the archive from the
// entry's first URL, checked against the entry's sha256 digest. The TLS
// settings and credentials are the registry's: basic auth from the same
// credential store, sent only to the repository's own host, as Helm
// does without --pass-credentials.
func fromRepo(ctx context.Context, name string, opts LoadOptions) (*Chart, error) {
	base, err := url.Parse(strings.TrimSuffix(opts.Repo, "/") + "/")
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("--repo %s: not an http(s) URL: %w", opts.Repo, spec.ErrBadInput)
	}
	where := "repository " + opts.Repo
	client, err := opts.Registry.HTTPClient()
	if err != nil {
		return nil, err
	}
	get := &getter{ctx: ctx, client: client, opts: opts, host: base.Host}
	data, err := get.fetch(base.ResolveReference(&url.URL{Path: "index.yaml"}), maxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("%s: index.yaml: %w", where, err)
	}
	var idx repoIndex
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: index.yaml: %v: %w", where, err, spec.ErrCorrupt)
	}
	entries := idx.Entries[name]
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s has no chart %s: %w", where, name, spec.ErrNotFound)
	}
	versions := make([]string, len(entries))
	for i, e := range entries {
		versions[i] = e.Version
	}
	v, err := pickVersion(versions, opts.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: chart %s: %w", where, name, err)
	}
	e := entries[indexOf(versions, v)]
	if len(e.URLs) == 0 {
		return nil, fmt.Errorf("%s: chart %s %s has no URL: %w", where, name, v, spec.ErrCorrupt)
	}
	u, err := base.Parse(e.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: chart %s %s: URL %q: %v: %w", where, name, v, e.URLs[0], err, spec.ErrCorrupt)
	}
	archive, err := get.fetch(u, MaxArchiveSize)
	if err != nil {
		return nil, fmt.Errorf("%s: chart %s %s: %w", where, name, v, err)
	}
	if err := checkDigest(archive, e.Digest); err != nil {
		return nil, fmt.Errorf("%s: chart %s %s from %s: %w", where, name, v, u.Redacted(), err)
	}
	c, err := loadArchive(archive, u.Redacted())
	if err != nil {
		return nil, err
	}
	if c.Name != name || c.Version != v {
		return nil, fmt.Errorf("%s: chart %s %s: the archive at %s is %s %s: %w", where, name, v, u.Redacted(), c.Name, c.Version, spec.ErrCorrupt)
	}
	return c, nil
}

// checkDigest compares an archive with the sha256 an index promised
// ("" when the index gives none: Helm's index.yaml always has one).
func checkDigest(data []byte, want string) error {
	if want == "" {
		return nil
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(strings.TrimPrefix(want, "sha256:"), got) {
		return fmt.Errorf("digest sha256:%s, index.yaml says %s: %w", got, want, spec.ErrDigestMismatch)
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// getter fetches files of a repository.
type getter struct {
	ctx    context.Context
	client *http.Client
	opts   LoadOptions
	host   string // the repository's host: the only one given credentials
}

func (g *getter) fetch(u *url.URL, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(g.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if u.Host == g.host && u.User == nil {
		user, pass, ok, err := g.opts.Registry.BasicAuth(g.ctx, u.Host)
		if err != nil {
			return nil, fmt.Errorf("credentials for %s: %w", u.Host, err)
		}
		if ok {
			req.SetBasicAuth(user, pass)
		}
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %s: %w", u.Redacted(), resp.Status, spec.ErrNotFound)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, spec.Mark(fmt.Errorf("%s: %s: check the credentials for %s (docker login or %s)",
			u.Redacted(), resp.Status, u.Host, "REGISTRY_AUTH_FILE"), spec.ErrUnauthorized)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s", u.Redacted(), resp.Status)
	}
	data, err := readCapped(resp.Body, max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return data, nil
}
