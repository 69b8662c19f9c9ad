package runtime

import (
	"fmt"
	goruntime "runtime"

	"github.com/ferryhq/ferry/spec"
)

// DaemonHostOS is the one system the daemon transports (docker-daemon:,
// containerd:, podman:) run on. They talk to an engine over its Unix
// socket or CLI, and ferry tests them only there; every other transport
// works on Linux, macOS and Windows alike.
const DaemonHostOS = "linux"

// IsDaemon reports whether transport is one of the container runtimes.
func IsDaemon(transport string) bool {
	return transport == TransportDockerDaemon || transport == TransportContainerd || transport == TransportPodman
}

// CheckHost refuses, with spec.ErrBadInput, a daemon transport on a
// system other than DaemonHostOS, saying what works instead.
func CheckHost(transport string) error { return checkHost(transport, goruntime.GOOS) }

func checkHost(transport, goos string) error {
	if !IsDaemon(transport) || goos == DaemonHostOS {
		return nil
	}
	return fmt.Errorf("%s: container runtimes are supported on %s only, not %s; on this machine use a registry "+
		"(docker://), an OCI layout (oci:) or an archive (oci-archive:, docker-archive:): %w",
		transport, DaemonHostOS, goos, spec.ErrBadInput)
}
