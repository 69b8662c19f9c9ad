package runtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

func TestParse(t *testing.T) {
	const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in      string
		want    runtime.Ref
		str     string // String(), when it differs from in
		wantErr string // substring of the error
	}{
		{in: "oci:/x/lay", want: runtime.Ref{Transport: "oci", Path: "/x/lay"}},
		{in: "oci:/x/lay:v1", want: runtime.Ref{Transport: "oci", Path: "/x/lay", Tag: "v1"}},
		{in: "oci:lay:example.com/app:1.0", want: runtime.Ref{Transport: "oci", Path: "lay", Tag: "example.com/app:1.0"}},
		{in: "oci-archive:a.tar", want: runtime.Ref{Transport: "oci-archive", Path: "a.tar"}},
		{in: "oci-archive:/x/a.tar:v2", want: runtime.Ref{Transport: "oci-archive", Path: "/x/a.tar", Tag: "v2"}},
		{in: "docker-archive:/x/a.tar", want: runtime.Ref{Transport: "docker-archive", Path: "/x/a.tar"}},
		{in: "docker-archive:/x/a.tar:example.com:5000/app:1.0",
			want: runtime.Ref{Transport: "docker-archive", Path: "/x/a.tar", Tag: "example.com:5000/app:1.0"}},
		{in: "docker-archive:/x/a.tar:app", want: runtime.Ref{Transport: "docker-archive", Path: "/x/a.tar", Tag: "app:latest"},
			str: "docker-archive:/x/a.tar:app:latest"},
		{in: `oci:C:\images`, want: runtime.Ref{Transport: "oci", Path: `C:\images`}},
		{in: `oci:C:\images:v1`, want: runtime.Ref{Transport: "oci", Path: `C:\images`, Tag: "v1"}},
		{in: "oci-archive:d:/x/a.tar:v2", want: runtime.Ref{Transport: "oci-archive", Path: "d:/x/a.tar", Tag: "v2"}},
		{in: `docker-archive:C:\x\a.tar:example.com:5000/app:1.0`,
			want: runtime.Ref{Transport: "docker-archive", Path: `C:\x\a.tar`, Tag: "example.com:5000/app:1.0"}},
		{in: "oci:C:v1", want: runtime.Ref{Transport: "oci", Path: "C", Tag: "v1"}},
		{in: "app:1.0", want: runtime.Ref{Transport: "store", Tag: "app:1.0"}},
		{in: "app", want: runtime.Ref{Transport: "store", Tag: "app:latest"}, str: "app:latest"},
		{in: "example.com:5000/ns/app", want: runtime.Ref{Transport: "store", Tag: "example.com:5000/ns/app:latest"},
			str: "example.com:5000/ns/app:latest"},
		{in: "example.com/ns/app@" + dgst, want: runtime.Ref{Transport: "store", Tag: "example.com/ns/app@" + dgst}},
		{in: "docker://example.com/app:1.0", want: runtime.Ref{Transport: "docker", Tag: "example.com/app:1.0"}},
		{in: "docker://alpine", want: runtime.Ref{Transport: "docker", Tag: "alpine"}},
		{in: "docker://127.0.0.1:5000", want: runtime.Ref{Transport: "docker", Tag: "127.0.0.1:5000"}},
		{in: "docker://registry.plant7:5000/mirror/ns", want: runtime.Ref{Transport: "docker", Tag: "registry.plant7:5000/mirror/ns"}},
		{in: "docker://example.com/app@" + dgst, want: runtime.Ref{Transport: "docker", Tag: "example.com/app@" + dgst}},
		{in: "docker://Example/App", wantErr: "invalid docker reference"},
		{in: "docker-daemon:app:1.0", want: runtime.Ref{Transport: "docker-daemon", Tag: "app:1.0"}},
		{in: "docker-daemon:", want: runtime.Ref{Transport: "docker-daemon"}},
		{in: "containerd:docker.io/library/app:1.0", want: runtime.Ref{Transport: "containerd", Tag: "docker.io/library/app:1.0"}},
		{in: "podman:app:1.0", want: runtime.Ref{Transport: "podman", Tag: "app:1.0"}},
		{in: "podman:App", wantErr: "invalid podman reference"},
		{in: "oci:", wantErr: "needs a path"},
		{in: "oci:/x:", wantErr: "invalid oci reference"},
		{in: "docker-archive:/x/a.tar:app@" + dgst, wantErr: "invalid docker-archive reference"},
		{in: "docker:24-dind", want: runtime.Ref{Transport: "store", Tag: "docker:24-dind"}},
		{in: "docker:/x", wantErr: "docker://REF"},
		{in: "docker://", wantErr: "invalid docker reference"},
		{in: "dir:/x", wantErr: `unknown transport "dir"`},
		{in: "App:1.0", wantErr: "not a valid image name"},
		{in: "", wantErr: "oci:DIR[:NAME]"},
	} {
		got, err := runtime.Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, spec.ErrBadInput) ||
				!strings.Contains(err.Error(), "valid") || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("Parse(%q) error = %v, want ErrBadInput containing %q, the input and the valid forms", tc.in, err, tc.wantErr)
			}
			if tc.want.Transport != "" && got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v with the error", tc.in, got, tc.want)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
			continue
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if got.String() != str {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got.String(), str)
		}
	}
}
