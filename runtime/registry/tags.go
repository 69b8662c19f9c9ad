package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Tags lists the tags of a repository ("[docker://]HOST[:PORT]/PATH"),
// read where opts.Mirrors says, with the credentials and TLS settings of
// opts.
func Tags(ctx context.Context, repository string, opts Options) ([]string, error) {
	given := strings.TrimPrefix(repository, runtime.TransportRegistry+"://")
	repo, err := name.NewRepository(given, opts.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("docker://%s: %v: %w", given, err, spec.ErrBadInput)
	}
	read, host, err := mirrored(repo.Tag("latest"), opts)
	if err != nil {
		return nil, err
	}
	c, err := newClient(opts, read.Context().Registry)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(read.Context(), c.remoteOptions(ctx)...)
	if err != nil {
		return nil, c.explain(err, host, given)
	}
	return tags, nil
}

// HTTPClient is an HTTP client with the TLS settings of opts (CA file,
// --tls-verify=false), for what is not a registry but is reached as one
// is: a classic chart repository.
func (o Options) HTTPClient() (*http.Client, error) {
	tr, err := o.httpTransport()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// BasicAuth returns the user name and password the credentials of opts
// hold for host (REGISTRY_AUTH_FILE, then the Docker config), and false
// when there are none.
func (o Options) BasicAuth(ctx context.Context, host string) (user, password string, ok bool, err error) {
	reg, err := name.NewRegistry(host, name.WeakValidation)
	if err != nil {
		return "", "", false, fmt.Errorf("%s: %v: %w", host, err, spec.ErrBadInput)
	}
	kc := o.Keychain
	if kc == nil {
		kc = Keychain()
	}
	auth, err := authn.Resolve(ctx, kc, reg)
	if err != nil || auth == authn.Anonymous {
		return "", "", false, err
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil || (cfg.Username == "" && cfg.Password == "") {
		return "", "", false, err
	}
	return cfg.Username, cfg.Password, true, nil
}
