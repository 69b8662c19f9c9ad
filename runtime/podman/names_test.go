package podman

import "testing"

func TestPodmanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"app:1", "localhost/app:1"},
		{"team/app", "localhost/team/app:latest"},
		{"docker.io/app:2", "docker.io/library/app:2"},
		{"docker.io/library/app:2", "docker.io/library/app:2"},
		{"localhost:5000/app:6", "localhost:5000/app:6"},
		{"example.com/fid/app:v1", "example.com/fid/app:v1"},
	} {
		if got := podmanName(tc.in); got != tc.want {
			t.Errorf("podmanName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
