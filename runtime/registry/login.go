package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ferryhq/ferry/spec"
)

// CheckLogin asks the registry host ("HOST[:PORT]", "docker.io" for
// Docker Hub) whether user and password are good, as docker login does:
// GET /v2/ with them, through the registry's token server when it names
// one. It returns nil when the registry accepts them, an error wrapping
// spec.ErrUnauthorized when it refuses them, and the registry's fault
// (unreachable, an untrusted certificate…) otherwise.
func CheckLogin(ctx context.Context, host, user, password string, opts Options) error {
	reg, err := loginRegistry(host, opts)
	if err != nil {
		return err
	}
	tr, err := opts.httpTransport()
	if err != nil {
		return err
	}
	c := &client{opts: opts, tr: tr, creds: "as user " + user}
	what := "login as " + user
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, tr, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		return c.explain(err, reg.RegistryStr(), what)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return c.explain(err, reg.RegistryStr(), what)
	}
	defer resp.Body.Close()
	return c.explain(transport.CheckError(resp, http.StatusOK), reg.RegistryStr(), what)
}

// loginRegistry parses a login target: a host with an optional port,
// never a repository.
func loginRegistry(host string, opts Options) (name.Registry, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), "/")
	reg, err := name.NewRegistry(h, opts.nameOptions()...)
	if err != nil || h == "" || strings.Contains(h, "/") {
		return name.Registry{}, spec.Mark(fmt.Errorf("registry %q: want HOST[:PORT], such as registry.example.com:5000 or docker.io", host), spec.ErrBadInput)
	}
	return reg, nil
}
