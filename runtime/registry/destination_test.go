package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
)

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com:5000/team/app:1.0": "example.com:5000",
		"127.0.0.1:5000/app":            "127.0.0.1:5000",
		"localhost/app:1":               "localhost",
		"docker.io/library/alpine:3":    "docker.io",
		"team/app:1.0":                  "",
		"app:1.0":                       "",
		"app":                           "",
	} {
		if got := registry.Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultTarget(t *testing.T) {
	for _, tc := range []struct {
		names, logins []string
		want, errSub  string
	}{
		{names: []string{"reg.example:5000/a:1", "reg.example:5000/b:2"}, logins: []string{"other:5000"}, want: "reg.example:5000"},
		{names: []string{"nginx:latest"}, logins: []string{"127.0.0.1:5000"}, want: "127.0.0.1:5000"},
		{names: []string{"nginx:latest"}, errSub: "ferry login"},
		{names: []string{"nginx:latest"}, logins: []string{"b:1", "a:1"}, errSub: "a:1, b:1"},
		{names: []string{"a.example/x:1", "b.example/y:1"}, logins: []string{"a:1"}, errSub: "2 registries"},
		{names: []string{"a.example/x:1", "y:1"}, logins: []string{"a:1"}, want: "a:1"},
	} {
		got, _, err := registry.DefaultTarget(tc.names, tc.logins)
		if tc.errSub != "" {
			if err == nil || !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("DefaultTarget(%v, %v) = %q, %v, want ErrBadInput containing %q", tc.names, tc.logins, got, err, tc.errSub)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("DefaultTarget(%v, %v) = %q, %v, want %q", tc.names, tc.logins, got, err, tc.want)
		}
	}
}
