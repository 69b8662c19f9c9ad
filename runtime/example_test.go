package runtime_test

import (
	"fmt"

	"github.com/ferryhq/ferry/runtime"
)

func ExampleParse() {
	for _, s := range []string{
		"oci:/srv/layout:v1",
		"docker-archive:/tmp/a.tar:example.com:5000/app:1.0",
		"app",
	} {
		r, err := runtime.Parse(s)
		fmt.Printf("%s %q %q %v\n", r.Transport, r.Path, r.Tag, err)
	}
	_, err := runtime.Parse("dir:/tmp/x")
	fmt.Println(err)
	// Output:
	// oci "/srv/layout" "v1" <nil>
	// docker-archive "/tmp/a.tar" "example.com:5000/app:1.0" <nil>
	// store "" "app:latest" <nil>
	// image "dir:/tmp/x": unknown transport "dir"; valid forms: oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF], docker://REF, docker-daemon:REF, containerd:REF, podman:REF, or a bare NAME[:TAG][@DIGEST]
}
