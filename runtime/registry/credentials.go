package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ferryhq/ferry/internal/atomicfile"
)

// Credentials is the file where this ecosystem's tools keep registry
// logins: REGISTRY_AUTH_FILE when it is set (podman, skopeo, buildah),
// else the Docker config (DOCKER_CONFIG/config.json or
// ~/.docker/config.json). Both have the Docker config's "auths" and
// "credHelpers"; a configured credential helper (credsStore, or
// credHelpers for the registry) keeps the secret, and the file only
// names the registry. The file is written atomically with mode 0600;
// its other settings are kept as the Docker CLI keeps them.
type Credentials struct {
	Path string
	// Podman is true for REGISTRY_AUTH_FILE, which names Docker Hub
	// "docker.io" as podman does; the Docker config names it
	// "https://index.docker.io/v1/".
	Podman bool
}

// CredentialsFile returns where logins are read and written.
func CredentialsFile() (Credentials, error) {
	if p := os.Getenv(AuthFileEnv); p != "" {
		return Credentials{Path: p, Podman: true}, nil
	}
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Credentials{}, fmt.Errorf("credentials: no home directory for ~/.docker/config.json (set DOCKER_CONFIG or %s): %w", AuthFileEnv, err)
		}
		dir = filepath.Join(home, ".docker")
	}
	return Credentials{Path: filepath.Join(dir, config.ConfigFileName)}, nil
}

// Save stores user and password for host, through the credential helper
// configured for it if any, and returns where: the file, or the helper.
func (c Credentials) Save(host, user, password string) (string, error) {
	cf, key, err := c.open(host)
	if err != nil {
		return "", err
	}
	ac := types.AuthConfig{Username: user, Password: password, ServerAddress: key}
	if helper(cf, key) == "" {
		cf.AuthConfigs[key] = ac
		return c.Path, c.write(cf)
	}
	// The helper keeps the secret; the Docker config's writer records
	// the registry in the file, keeping the file's mode.
	if err := c.private(); err != nil {
		return "", err
	}
	if err := cf.GetCredentialsStore(key).Store(ac); err != nil {
		return "", c.fault(err)
	}
	return c.where(cf, key), nil
}

// Remove deletes the login for host; found is false when there was none.
func (c Credentials) Remove(host string) (where string, found bool, err error) {
	cf, key, err := c.open(host)
	if err != nil {
		return "", false, err
	}
	if helper(cf, key) == "" {
		if _, found = cf.AuthConfigs[key]; !found {
			return c.Path, false, nil
		}
		delete(cf.AuthConfigs, key)
		return c.Path, true, c.write(cf)
	}
	store := cf.GetCredentialsStore(key)
	ac, err := store.Get(key)
	if err != nil {
		return "", false, c.fault(err)
	}
	_, listed := cf.AuthConfigs[key]
	if !listed && ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" {
		return c.where(cf, key), false, nil
	}
	if err := store.Erase(key); err != nil {
		return "", false, c.fault(err)
	}
	return c.where(cf, key), true, nil
}

// Registries lists the registries the file holds logins or credential
// helpers for, as hosts ("docker.io" for Docker Hub), sorted.
func (c Credentials) Registries() ([]string, error) {
	cf, err := c.load()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, keys := range [][]string{mapKeys(cf.AuthConfigs), mapKeys(cf.CredentialHelpers)} {
		for _, k := range keys {
			seen[hostOf(k)] = true
		}
	}
	out := mapKeys(seen)
	sort.Strings(out)
	return out, nil
}

// open loads the file and returns the key host is stored under.
func (c Credentials) open(host string) (*configfile.ConfigFile, string, error) {
	reg, err := loginRegistry(host, Options{})
	if err != nil {
		return nil, "", err
	}
	cf, err := c.load()
	if err != nil {
		return nil, "", err
	}
	return cf, c.key(reg), nil
}

// key is the name a registry's login is kept under: the host, or Docker
// Hub's own name in each file.
func (c Credentials) key(reg name.Registry) string {
	if reg.RegistryStr() != name.DefaultRegistry {
		return reg.RegistryStr()
	}
	if c.Podman {
		return "docker.io"
	}
	return authn.DefaultAuthKey
}

func (c Credentials) load() (*configfile.ConfigFile, error) {
	cf := configfile.New(c.Path)
	f, err := os.Open(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", c.Path, err)
	}
	defer f.Close()
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("credentials %s: %w (fix or move the file; ferry does not overwrite it)", c.Path, err)
	}
	return cf, nil
}

// write replaces the file (the file a symlink points at, as the Docker
// config may be one) atomically, readable by its owner only.
func (c Credentials) write(cf *configfile.ConfigFile) error {
	p, err := filepath.EvalSymlinks(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		p, err = c.Path, os.MkdirAll(filepath.Dir(c.Path), 0o700)
	}
	if err != nil {
		return c.fault(err)
	}
	err = atomicfile.Write(p, 0o600, func(f *os.File) error { return cf.SaveToWriter(f) })
	if err != nil {
		return c.fault(err)
	}
	return nil
}

// private makes an existing file readable by its owner only, so that the
// Docker config's own writer, which copies the old file's mode, keeps it
// so.
func (c Credentials) private() error {
	p, err := filepath.EvalSymlinks(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = os.Chmod(p, 0o600)
	}
	if err != nil {
		return c.fault(err)
	}
	return nil
}

// helper is the credential helper that keeps key's secret, or "".
func helper(cf *configfile.ConfigFile, key string) string {
	if h := cf.CredentialHelpers[key]; h != "" {
		return h
	}
	return cf.CredentialsStore
}

func (c Credentials) where(cf *configfile.ConfigFile, key string) string {
	if h := helper(cf, key); h != "" {
		return "credential helper docker-credential-" + h + " (named in " + c.Path + ")"
	}
	return c.Path
}

func (c Credentials) fault(err error) error {
	return fmt.Errorf("credentials %s: %w", c.Path, err)
}

// hostOf turns a key of "auths" into a host: "https://index.docker.io/v1/"
// and "docker.io" are Docker Hub's, "https://HOST/" is HOST.
func hostOf(key string) string {
	if key == authn.DefaultAuthKey || key == name.DefaultRegistry {
		return "docker.io"
	}
	reg, err := loginRegistry(key, Options{})
	if err != nil {
		return key
	}
	if reg.RegistryStr() == name.DefaultRegistry {
		return "docker.io"
	}
	return reg.RegistryStr()
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
