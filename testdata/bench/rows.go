package main

import (
	"os"
	"os/exec"
	"strings"
)

// rows lists the paths of issue 13's table, each on the images it is
// measured on, ferry first and then its peers.
func (b *bench) rows() []*row {
	rows := []*row{b.startRow()}
	for _, img := range []string{"base", "many", "big"} {
		rows = append(rows, b.verifyRow(img))
	}
	for _, img := range []string{"base", "many"} {
		rows = append(rows, b.saveDaemonRow(img))
	}
	for _, img := range []string{"base", "many"} {
		rows = append(rows, b.loadDaemonRow(img))
	}
	for _, img := range []string{"base", "many"} {
		rows = append(rows, b.loadRegistryRow(img), b.copyRegistryRow(img), b.pushHeldRow(img))
	}
	for _, img := range []string{"base", "many", "big"} {
		rows = append(rows, b.saveRegistryRow(img))
	}
	for _, img := range []string{"base", "many", "big"} {
		rows = append(rows, b.loadLayoutRow(img))
	}
	rows = append(rows, b.saveLayoutRow("big"))
	return rows
}

func fixed(argv ...string) func() []string { return func() []string { return argv } }

// ferryStep runs ferry with FERRY_HOME at home, made fresh by prepare
// when fresh is set.
func (b *bench) ferryStep(home string, freshHome bool, clean string, argv func() []string) step {
	return step{tool: "ferry", env: append(b.dockerEnv(), "FERRY_HOME="+b.path(home)),
		argv: func() []string { return append([]string{b.o.ferry}, argv()...) },
		prepare: func() error {
			if clean != "" {
				if err := os.RemoveAll(clean); err != nil {
					return err
				}
			}
			if freshHome {
				return b.ferryInit(home)
			}
			return nil
		}}
}

func removing(path string) func() error { return func() error { return os.RemoveAll(path) } }

// startRow times a command that does no work, `version`: the process
// start each command of the other rows pays before its first byte (package
// initialisation: ferry links Helm's engine and Kubernetes' API scheme,
// crane does not). It is the floor of every row of the small images.
func (b *bench) startRow() *row {
	return &row{path: "process start (version)", image: "-", goal: "(floor of each row)", steps: []step{
		{tool: "ferry", argv: fixed(b.o.ferry, "version")},
		{tool: "crane version", argv: fixed(b.o.crane, "version")},
	}}
}

func (b *bench) verifyRow(img string) *row {
	fi, _ := os.Stat(b.bundle(img))
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	return &row{path: "verify (zstd bundle)", image: img, goal: "ferry >= 1.2 GB/s", bytes: size, steps: []step{
		b.ferryStep("site", false, "", fixed("verify", b.bundle(img))),
		{tool: "openssl dgst -sha256", argv: fixed("openssl", "dgst", "-sha256", b.bundle(img))},
	}}
}

func (b *bench) saveDaemonRow(img string) *row {
	out := b.path("out", "save-daemon")
	name := b.dockerName(img)
	return &row{path: "save docker-daemon:", image: img, goal: ">= 1.2x, >= 1x", steps: []step{
		b.ferryStep("hq-daemon", true, out, fixed("save", "docker-daemon:"+name, "-o", out)),
		{tool: "docker save | zstd -1", env: b.dockerEnv(), prepare: removing(out),
			argv: fixed("sh", "-c", "docker save "+name+" | zstd -1 -q -f -o "+out)},
		{tool: "docker save -o", env: b.dockerEnv(), prepare: removing(out),
			argv: fixed("docker", "save", "-o", out, name)},
	}}
}

// loadDaemonRow loads into an engine that lacks the image: each run
// removes it (every name of its ID) first.
func (b *bench) loadDaemonRow(img string) *row {
	rmi := func() error {
		ids, err := dockerOutput(b, "image", "inspect", "--format", "{{.Id}}", b.dockerName(img))
		if err != nil {
			return nil // already gone
		}
		return quiet(b.dockerEnv(), "docker", "rmi", "-f", strings.TrimSpace(ids))
	}
	return &row{path: "load --into docker-daemon:", image: img, goal: ">= 1.2x", steps: []step{
		{tool: "ferry", env: append(b.dockerEnv(), "FERRY_HOME="+b.path("site-daemon")),
			argv: fixed(b.o.ferry, "load", b.bundle(img), "--into", "docker-daemon:"+b.dockerName(img), "--no-receipt"),
			prepare: func() error {
				if err := rmi(); err != nil {
					return err
				}
				return b.ferryInit("site-daemon")
			}},
		{tool: "docker load -i", env: b.dockerEnv(), prepare: rmi,
			argv: fixed("docker", "load", "-i", b.path("archives", img+"-docker.tar"))},
	}}
}

// loadRegistryRow loads the bundle into a fresh home and an empty
// registry.
func (b *bench) loadRegistryRow(img string) *row {
	dest := func() string { return b.sink.Host + "/bench/" + img + ":1" }
	return &row{path: "load --into docker://", image: img, goal: ">= 1.5x, >= 1x", steps: []step{
		{tool: "ferry", env: []string{"FERRY_HOME=" + b.path("site-reg")},
			argv: func() []string {
				return []string{b.o.ferry, "load", b.bundle(img), "--into", "docker://" + b.sink.Host, "--no-receipt"}
			},
			prepare: func() error {
				if err := b.freshSink(); err != nil {
					return err
				}
				return b.ferryInit("site-reg")
			}},
		{tool: "skopeo copy oci-archive:", prepare: b.freshSink, argv: func() []string {
			return []string{"skopeo", "copy", "-q", "--dest-tls-verify=false", "oci-archive:" + b.path("archives", img+".tar") + ":1", "docker://" + dest()}
		}},
		{tool: "crane push (layout)", prepare: b.freshSink, argv: func() []string {
			return []string{b.o.crane, "push", "--insecure", b.layout(img), dest()}
		}},
	}}
}

func (b *bench) copyRegistryRow(img string) *row {
	dest := func() string { return b.sink.Host + "/bench/" + img + ":1" }
	src := "oci:" + b.layout(img) + ":1"
	return &row{path: "copy oci: docker://", image: img, goal: ">= 1x crane", steps: []step{
		{tool: "ferry", env: []string{"FERRY_HOME=" + b.path("hq")}, prepare: b.freshSink,
			argv: func() []string { return []string{b.o.ferry, "copy", src, "docker://" + dest()} }},
		{tool: "crane push (layout)", prepare: b.freshSink, argv: func() []string {
			return []string{b.o.crane, "push", "--insecure", b.layout(img), dest()}
		}},
		{tool: "skopeo copy oci:", prepare: b.freshSink, argv: func() []string {
			return []string{"skopeo", "copy", "-q", "--dest-tls-verify=false", src, "docker://" + dest()}
		}},
	}}
}

// pushHeldRow pushes an image under a new tag to a repository that holds
// every blob of it already (a site registry on trip 2): one existence
// check per blob, then the manifest.
func (b *bench) pushHeldRow(img string) *row {
	repo := b.reg.Host + "/held/bench/" + img
	var tag string
	next := func() error { tag = "t" + b.next(); return nil }
	warm := func() error {
		next()
		return quiet(nil, b.o.crane, "push", "--insecure", b.layout(img), repo+":1")
	}
	return &row{path: "push, blobs all held, new tag", image: img, goal: ">= 1x", steps: []step{
		{tool: "ferry", env: []string{"FERRY_HOME=" + b.path("hq")}, prepare: warm,
			argv: func() []string {
				return []string{b.o.ferry, "copy", "oci:" + b.layout(img) + ":1", "docker://" + repo + ":" + tag}
			}},
		{tool: "crane push (layout)", prepare: next,
			argv: func() []string { return []string{b.o.crane, "push", "--insecure", b.layout(img), repo + ":" + tag} }},
	}}
}

func (b *bench) saveRegistryRow(img string) *row {
	out := b.path("out", "save-reg")
	ref := b.ref(img)
	return &row{path: "save docker://", image: img, goal: ">= 3x, >= 1.2x", steps: []step{
		b.ferryStep("hq-reg", true, out, fixed("save", "docker://"+ref, "-o", out)),
		{tool: "skopeo copy oci-archive:", prepare: removing(out),
			argv: fixed("skopeo", "copy", "-q", "--src-tls-verify=false", "docker://"+ref, "oci-archive:"+out+":1")},
		{tool: "crane pull --format oci; sync", prepare: removing(out),
			argv: fixed("sh", "-c", b.o.crane+" pull --insecure --format oci "+ref+" "+out+
				" && sync "+out+"/blobs/sha256/* "+out+"/index.json "+out+"/oci-layout")},
	}}
}

func (b *bench) loadLayoutRow(img string) *row {
	out := b.path("out", "load-oci")
	return &row{path: "load fresh home --into oci:", image: img, goal: ">= 2x", steps: []step{
		b.ferryStep("site-oci", true, out, fixed("load", b.bundle(img), "--into", "oci:"+out, "--no-receipt")),
		{tool: "skopeo copy oci-archive: oci:", prepare: removing(out),
			argv: fixed("skopeo", "copy", "-q", "oci-archive:"+b.path("archives", img+".tar")+":1", "oci:"+out+":1")},
	}}
}

func (b *bench) saveLayoutRow(img string) *row {
	out := b.path("out", "save-oci")
	return &row{path: "save oci:", image: img, goal: "RSS <= 64 MiB", steps: []step{
		b.ferryStep("hq-oci", true, out, fixed("save", "oci:"+b.layout(img)+":1", "-o", out)),
		{tool: "skopeo copy oci: oci-archive:", prepare: removing(out),
			argv: fixed("skopeo", "copy", "-q", "oci:"+b.layout(img)+":1", "oci-archive:"+out+":1")},
	}}
}

func dockerOutput(b *bench, args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), b.dockerEnv()...)
	out, err := cmd.Output()
	return string(out), err
}
