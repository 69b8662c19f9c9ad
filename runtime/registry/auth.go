package registry

import (
	"context"
	"fmt"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// AuthFileEnv names the containers-auth.json file that podman, skopeo and
// buildah use; its "auths" and "credHelpers" have the Docker config's
// shape.
const AuthFileEnv = "REGISTRY_AUTH_FILE"

// Keychain returns the default credentials: the file REGISTRY_AUTH_FILE
// names, when set, then the Docker config (DOCKER_CONFIG or
// ~/.docker/config.json, with credential helpers and credsStore, then
// podman's containers/auth.json), the first that has credentials for the
// registry. Registries without credentials are used anonymously.
func Keychain() authn.Keychain {
	return authn.NewMultiKeychain(authFileKeychain{}, authn.DefaultKeychain)
}

// authFileKeychain reads the file REGISTRY_AUTH_FILE names, on every
// Resolve, so that a change of the variable takes effect.
type authFileKeychain struct{}

func (authFileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	path := os.Getenv(AuthFileEnv)
	if path == "" {
		return authn.Anonymous, nil
	}
	cf, err := loadAuthFile(path)
	if err != nil {
		return nil, err
	}
	for _, key := range authKeys(target) {
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", AuthFileEnv, path, err)
		}
		if ac.Username != "" || ac.Password != "" || ac.Auth != "" || ac.IdentityToken != "" || ac.RegistryToken != "" {
			return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
				IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
		}
	}
	return authn.Anonymous, nil
}

// authKeys are the names a login for target may be kept under: the
// repository, the host, and for Docker Hub both Docker's name and
// podman's ("docker.io").
func authKeys(target authn.Resource) []string {
	keys := []string{target.String(), target.RegistryStr()}
	if target.RegistryStr() == name.DefaultRegistry {
		keys = append(keys, authn.DefaultAuthKey, "docker.io")
	}
	return keys
}

func loadAuthFile(path string) (*configfile.ConfigFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AuthFileEnv, err)
	}
	defer f.Close()
	cf, err := config.LoadFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", AuthFileEnv, path, err)
	}
	return cf, nil
}

// resolveAuth returns the credentials for reg and a description of them
// for error messages (never the secret).
func resolveAuth(kc authn.Keychain, reg name.Registry) (authn.Authenticator, string, error) {
	if kc == nil {
		kc = Keychain()
	}
	auth, err := authn.Resolve(context.Background(), kc, reg)
	if err != nil {
		return nil, "", err
	}
	if auth == authn.Anonymous {
		return auth, "anonymously (no credentials for " + reg.RegistryStr() + " in " + AuthFileEnv +
			", DOCKER_CONFIG or ~/.docker/config.json)", nil
	}
	cfg, err := authn.Authorization(context.Background(), auth)
	if err == nil && cfg.Username != "" {
		return auth, "as user " + cfg.Username, nil
	}
	return auth, "with stored credentials", nil
}
