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
	_, err := runtime.Parse("podman:app:1.0")
	fmt.Println(err)
	// Output:
	// oci "/srv/layout" "v1" <nil>
	// docker-archive "/tmp/a.tar" "example.com:5000/app:1.0" <nil>
	// store "" "app:latest" <nil>
	// image "podman:app:1.0": transport "podman" is not supported yet, it comes in a later version; valid now: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF], docker://REF, or a bare NAME[:TAG][@DIGEST]: bad input
}
