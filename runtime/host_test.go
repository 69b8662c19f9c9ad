package runtime

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		transport, goos string
		ok              bool
	}{
		{TransportDockerDaemon, "linux", true},
		{TransportContainerd, "linux", true},
		{TransportPodman, "linux", true},
		{TransportDockerDaemon, "windows", false},
		{TransportContainerd, "darwin", false},
		{TransportPodman, "darwin", false},
		{TransportOCI, "windows", true},
		{TransportRegistry, "darwin", true},
		{TransportDockerArchive, "windows", true},
		{TransportStore, "windows", true},
	} {
		err := checkHost(tc.transport, tc.goos)
		if (err == nil) != tc.ok {
			t.Errorf("checkHost(%s, %s) = %v, want ok=%v", tc.transport, tc.goos, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), tc.goos)) {
			t.Errorf("checkHost(%s, %s) = %v, want ErrBadInput naming the system", tc.transport, tc.goos, err)
		}
	}
}
