package docker

import "testing"

func TestRepoComponent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web", "web"},
		{"Snap_Me", "snap_me"},
		{"my.app-1", "my.app-1"},
		{"a-.b", "a-b"},
		{"__x__", "x"},
		{"___", "container"},
	} {
		if got := repoComponent(tc.in); got != tc.want {
			t.Errorf("repoComponent(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	info := imageInfo{ID: "sha256:0123456789abcdef", RepoTags: []string{"app:1.0", "app:latest"}}
	for _, tc := range []struct{ ref, want string }{
		{"app", "app:latest"},
		{"docker.io/library/app:1.0", "app:1.0"},
		{"docker.io/team/app:2", "team/app:2"},
		{"example.com:5000/team/app:2", "example.com:5000/team/app:2"},
		{"0123456789ab", "app:1.0"},
		{"sha256:0123456789abcdef", "app:1.0"},
		{"app@sha256:ffff", "app:1.0"},
	} {
		if got := displayName(tc.ref, info); got != tc.want {
			t.Errorf("displayName(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	if got := displayName("0123456789ab", imageInfo{ID: "sha256:0123456789abcdef"}); got != "" {
		t.Errorf("displayName of an untagged ID = %q, want \"\"", got)
	}
}

func TestNewClient_Host(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_TLS_VERIFY", "")
	for _, tc := range []struct{ host, base string }{
		{"", "http://docker"},
		{"unix:///run/x.sock", "http://docker"},
		{"tcp://10.0.0.1:2375", "http://10.0.0.1:2375"},
	} {
		c, err := newClient(Options{Host: tc.host})
		if err != nil || c.base != tc.base {
			t.Errorf("newClient(%q) = %+v, %v, want base %s", tc.host, c, err, tc.base)
		}
	}
	t.Setenv("DOCKER_HOST", "tcp://h:1")
	if c, _ := newClient(Options{}); c.host != "tcp://h:1" {
		t.Errorf("with DOCKER_HOST set, host = %s", c.host)
	}
	for _, bad := range []string{"ssh://u@h", "/run/docker.sock", "npipe:////./pipe/docker"} {
		if _, err := newClient(Options{Host: bad}); err == nil {
			t.Errorf("newClient(%q) succeeded", bad)
		}
	}
}
