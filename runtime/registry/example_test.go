package registry_test

import (
	"context"
	"fmt"

	"github.com/ferryhq/ferry/runtime/registry"
)

// Copy an image between registries, reading docker.io through a local
// mirror and writing under a prefix at the site's registry.
func Example() {
	ctx := context.Background()
	opts := registry.Options{Mirrors: map[string]string{"docker.io": "127.0.0.1:5000"}}
	src, err := registry.FromReference("docker://alpine:3.20", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	imgs, err := src.Resolve(ctx) // alpine:3.20, read from 127.0.0.1:5000/library/alpine:3.20
	if err != nil {
		fmt.Println(err)
		return
	}
	tgt, err := registry.NewTarget("docker://registry.plant7:5000/mirror", registry.Options{CAFile: "/etc/ferry/ca.pem"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tgt.Close()
	// Pushes registry.plant7:5000/mirror/alpine:3.20 with the same digest.
	if err := tgt.Write(ctx, imgs, src); err != nil {
		fmt.Println(err)
	}
}
