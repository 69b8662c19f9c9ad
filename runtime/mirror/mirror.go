// Package mirror writes the files that point a cluster's container
// runtimes at a site registry for the registries its images came from,
// so that a pod that names quay.io/jetstack/cert-manager-controller:v1.21.1
// pulls it from the site registry without a value changed: containerd's
// hosts.toml (certs.d/<host>/hosts.toml, read by containerd's CRI plugin
// when its config_path points there) and a registries.conf.d drop-in
// (containers-registries.conf v2) for CRI-O and podman.
//
// The site registry holds each image where `ferry load --into
// docker://HOST/PREFIX` pushed it: HOST/PREFIX/<its path without the
// registry host>, so quay.io/jetstack/x:v1 is HOST/PREFIX/jetstack/x:v1
// and docker.io/library/busybox:1.36 is HOST/PREFIX/library/busybox:1.36,
// which is where both runtimes look once mirrored.
package mirror

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/ferryhq/ferry/spec"
)

// domain is distribution's grammar of a registry host, anchored.
var domain = regexp.MustCompile(`^(?:` + reference.DomainRegexp.String() + `)$`)

// Options describe the site registry as the cluster's nodes reach it.
type Options struct {
	// Registry is HOST[:PORT][/PREFIX].
	Registry string
	// PlainHTTP: the registry speaks HTTP, not HTTPS.
	PlainHTTP bool
	// SkipVerify: do not verify the registry's certificate.
	SkipVerify bool
	// CA is the path, on the nodes, of the CA certificate that signed the
	// registry's certificate; "" for the system's CAs.
	CA string
}

// File is a file to write, its path relative to the output directory.
type File struct {
	Path string
	Data []byte
}

// Paths of the files Files writes, relative to the output directory.
const (
	// ContainerdDir holds one <host>/hosts.toml per registry: copy it to
	// /etc/containerd/certs.d (containerd's config_path).
	ContainerdDir = "certs.d"
	// RegistriesConf is the drop-in for /etc/containers/registries.conf.d.
	RegistriesConf = "registries.conf.d/50-ferry-mirrors.conf"
)

// Files returns the files that mirror each of hosts (registry hosts as
// image references name them: "docker.io", "quay.io",
// "registry.example.com:5000") onto opts.Registry: a hosts.toml per host
// and one registries.conf drop-in, sorted by host.
func Files(hosts []string, opts Options) ([]File, error) {
	site, prefix, err := splitRegistry(opts.Registry)
	if err != nil {
		return nil, err
	}
	hosts = uniqueSorted(hosts)
	for _, h := range hosts {
		if !domain.MatchString(h) || h != strings.ToLower(h) {
			return nil, fmt.Errorf("registry host %s: not a registry host: %w", spec.Quote(h), spec.ErrBadInput)
		}
	}
	var out []File
	for _, h := range hosts {
		out = append(out, File{Path: path.Join(ContainerdDir, h, "hosts.toml"), Data: hostsToml(h, site, prefix, opts)})
	}
	out = append(out, File{Path: RegistriesConf, Data: registriesConf(hosts, site, prefix, opts)})
	return out, nil
}

// splitRegistry checks HOST[:PORT][/PREFIX] with distribution's grammar.
func splitRegistry(s string) (host, prefix string, err error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "docker://"), "/")
	host, prefix, _ = strings.Cut(s, "/")
	named, perr := reference.ParseNamed(strings.TrimSuffix(s+"/x", "/"))
	if perr != nil || host == "" || reference.Domain(named) != host || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "", "", spec.Mark(fmt.Errorf("--registry %s: want HOST[:PORT][/PREFIX], such as registry.plant7:5000/mirror", spec.Quote(s)), spec.ErrBadInput)
	}
	return host, prefix, nil
}

// upstream is the server containerd falls back to for host.
func upstream(host string) string {
	if host == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + host
}

func hostsToml(host, site, prefix string, opts Options) []byte {
	scheme := "https"
	if opts.PlainHTTP {
		scheme = "http"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by ferry chart mirrors: pull %s's images from the site registry %s.\n", host, path.Join(site, prefix))
	fmt.Fprintf(&b, "server = %q\n\n", upstream(host))
	endpoint := scheme + "://" + site
	if prefix != "" {
		endpoint += "/v2/" + prefix
	}
	fmt.Fprintf(&b, "[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", endpoint)
	if prefix != "" {
		b.WriteString("  override_path = true\n")
	}
	if opts.SkipVerify {
		b.WriteString("  skip_verify = true\n")
	}
	if opts.CA != "" {
		fmt.Fprintf(&b, "  ca = %q\n", opts.CA)
	}
	return []byte(b.String())
}

func registriesConf(hosts []string, site, prefix string, opts Options) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by ferry chart mirrors: pull these registries' images from the site registry %s.\n", path.Join(site, prefix))
	b.WriteString("# CRI-O and podman read it in /etc/containers/registries.conf.d.\n")
	if opts.CA != "" {
		fmt.Fprintf(&b, "# Trust the registry's CA: copy %s to /etc/containers/certs.d/%s/ca.crt.\n", opts.CA, site)
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[[registry]]\nprefix = %q\nlocation = %q\n\n[[registry.mirror]]\nlocation = %q\n", h, h, path.Join(site, prefix))
		if opts.PlainHTTP || opts.SkipVerify {
			b.WriteString("insecure = true\n")
		}
	}
	return []byte(b.String())
}

func uniqueSorted(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
