package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// matrix is the shared state of TestMatrix: the daemons (each started
// once), a ferry home, and the seven stores, each holding the image.
type matrix struct {
	dir, home string
	sites     sites
	// config is the image ID every cell must keep.
	config digest.Digest
	// made is, per source that holds no manifest, the one ferry makes.
	made   map[string]digest.Digest
	stores []*mstore
	reg    *runtimetest.Registry
	docker *runtimetest.Dockerd
	cd     *runtimetest.Containerd
	pm     *runtimetest.Podman
}

// mstore is one store of the matrix: the image it holds, and how ferry
// writes into it and its own tool reads what ferry wrote.
type mstore struct {
	name string
	// ref is the image in this store as ferry reads it; as is the name it
	// gets in every target (repo is --repo for a name that is only a tag).
	ref, as, repo string
	// manifest is the manifest digest this store holds for the image, ""
	// when it holds none (ferry then makes one).
	manifest digest.Digest
	// target is where a cell from src writes, and the name the image gets.
	target func(m *matrix, src *mstore) (target, name string)
	// check reads the image named name with this store's own tool: the
	// manifest digests it holds for it (none for a store that holds no
	// manifest; podman may hold several) and its image ID.
	check func(t *testing.T, m *matrix, target, name string) ([]digest.Digest, digest.Digest)
}

const ns = "ferry" // the containerd namespace

func newMatrix(t *testing.T) *matrix {
	for _, tool := range []string{"skopeo", "umoci", "docker", "ctr", "podman", "tar"} {
		runtimetest.NeedTool(t, tool)
	}
	m := &matrix{dir: t.TempDir(), made: map[string]digest.Digest{}, sites: newSites(t)}
	m.home = m.sites.site
	m.reg = runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	m.docker = runtimetest.StartDockerd(t)
	m.cd = runtimetest.StartContainerd(t)
	m.pm = runtimetest.NewPodman(t)
	t.Setenv("DOCKER_HOST", m.docker.Host)
	t.Setenv("CONTAINERD_ADDRESS", m.cd.Address)
	t.Setenv("CONTAINERD_NAMESPACE", ns)

	lay := filepath.Join(m.dir, "umoci")
	runtimetest.UmociImage(t, lay, "v1", 41, 2, 16<<10)
	umoci := runtimetest.SkopeoDigest(t, "oci:"+lay+":v1")
	m.config = digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--config", "--raw", "oci:"+lay+":v1"))
	archive := func(name string) string { // an oci-archive of the image named name, by skopeo
		p := filepath.Join(m.dir, strings.NewReplacer("/", "_", ":", "_").Replace(name)+".tar")
		runtimetest.Skopeo(t, "copy", "--quiet", "oci:"+lay+":v1", "oci-archive:"+p+":"+name)
		return p
	}
	named := func(store string) string { return "example.com/" + sanitize(store) + "/app:v1" }

	ociArchive := archive(named("oci-archive"))
	regRef := m.reg.Host + "/registry/app:v1"
	runtimetest.Skopeo(t, "copy", "--quiet", "--dest-tls-verify=false", "oci:"+lay+":v1", "docker://"+regRef)
	dockerTar := filepath.Join(m.dir, "for-docker.tar")
	runtimetest.Skopeo(t, "copy", "--quiet", "oci:"+lay+":v1", "docker-archive:"+dockerTar+":"+named("docker"))
	m.docker.Docker(t, "load", "-i", dockerTar)
	m.docker.Docker(t, "tag", named("docker"), named("docker-archive"))
	saved := filepath.Join(m.dir, "docker-save.tar")
	m.docker.Docker(t, "save", "-o", saved, named("docker-archive"))
	m.docker.Docker(t, "rmi", named("docker-archive"))
	m.cd.Import(t, ns, lay, "v1", named("containerd"))
	m.pm.Run(t, "load", "-i", archive(named("podman")))

	m.stores = []*mstore{
		{name: "oci", ref: "oci:" + lay + ":v1", as: "example.com/oci/app:v1", repo: "example.com/oci/app", manifest: umoci,
			target: m.toFile("oci:", ""), check: checkOCI},
		{name: "oci-archive", ref: "oci-archive:" + ociArchive, as: named("oci-archive"), manifest: umoci,
			target: m.toFile("oci-archive:", ".tar"), check: checkOCIArchive},
		{name: "docker-archive", ref: "docker-archive:" + saved, as: named("docker-archive"),
			target: m.toFile("docker-archive:", ".tar"), check: checkDockerArchive},
		{name: "registry", ref: "docker://" + regRef, as: regRef, manifest: umoci,
			target: toRegistry, check: checkRegistry},
		{name: "docker", ref: "docker-daemon:" + named("docker"), as: named("docker"),
			target: toRuntime("docker-daemon"), check: checkDocker},
		{name: "containerd", ref: "containerd:" + named("containerd"), as: named("containerd"), manifest: umoci,
			target: toRuntime("containerd"), check: checkContainerd},
		{name: "podman", ref: "podman:" + named("podman"), as: named("podman"),
			target: toRuntime("podman"), check: checkPodman},
	}
	return m
}

// toFile writes each cell to a file or directory of its own.
func (m *matrix) toFile(transport, ext string) func(*matrix, *mstore) (string, string) {
	return func(_ *matrix, src *mstore) (string, string) {
		return transport + filepath.Join(m.dir, "to-"+transport[:len(transport)-1]+"-"+src.name+ext), src.as
	}
}

// toRegistry pushes under the prefix "to": HOST/to/<path of the name>.
func toRegistry(m *matrix, src *mstore) (string, string) {
	path := src.as
	if first, rest, ok := strings.Cut(path, "/"); ok && strings.ContainsAny(first, ".:") {
		path = rest
	}
	return "docker://" + m.reg.Host + "/to", m.reg.Host + "/to/" + path
}

// toRuntime writes each image under its own name; the copy of a runtime's
// image into itself names the copy in the target (transport:REF).
func toRuntime(transport string) func(*matrix, *mstore) (string, string) {
	return func(_ *matrix, src *mstore) (string, string) {
		if strings.HasPrefix(src.ref, transport+":") {
			name := "example.com/" + sanitize(src.name) + "again/app:v1"
			return transport + ":" + name, name
		}
		return transport + ":", src.as
	}
}

func checkOCI(t *testing.T, _ *matrix, target, name string) ([]digest.Digest, digest.Digest) {
	dir := strings.TrimPrefix(target, "oci:")
	return one(layoutCheck(t, target+":"+name, dir+":"+name))
}

func checkOCIArchive(t *testing.T, _ *matrix, target, name string) ([]digest.Digest, digest.Digest) {
	return one(layoutCheck(t, target+":"+name, ""))
}

// checkDockerArchive: skopeo reads the image by its RepoTag (skopeo 1.9
// reads manifest.json, which holds no manifest); the manifest is the one
// the archive's index.json names, read with tar.
func checkDockerArchive(t *testing.T, _ *matrix, target, name string) ([]digest.Digest, digest.Digest) {
	_, config := layoutCheck(t, target+":"+name, "")
	out, err := exec.Command("tar", "-xOf", strings.TrimPrefix(target, "docker-archive:"), "index.json").Output()
	if err != nil {
		t.Fatalf("tar -xOf %s index.json: %v", target, err)
	}
	var idx struct {
		Manifests []struct{ Digest digest.Digest }
	}
	if err := json.Unmarshal(out, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("%s: index.json %s: %v", target, out, err)
	}
	return []digest.Digest{idx.Manifests[0].Digest}, config
}

func checkRegistry(t *testing.T, _ *matrix, _, name string) ([]digest.Digest, digest.Digest) {
	return one(layoutCheck(t, "docker://"+name, "", "--tls-verify=false"))
}

// checkDocker: docker image inspect gives the image ID, and docker create
// makes a container of it. Docker 20 keeps no manifest.
func checkDocker(t *testing.T, m *matrix, _, name string) ([]digest.Digest, digest.Digest) {
	id := m.docker.ImageID(t, name)
	c := strings.TrimSpace(string(m.docker.Docker(t, "create", "--network", "none", name)))
	m.docker.Docker(t, "rm", c)
	return nil, digest.Digest(id)
}

// checkContainerd: ctr lists the image with its manifest digest, unpacked;
// its config is read from ctr's content store.
func checkContainerd(t *testing.T, m *matrix, _, name string) ([]digest.Digest, digest.Digest) {
	var manifest digest.Digest
	for _, line := range strings.Split(string(m.cd.Ctr(t, ns, "images", "ls")), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == name {
			manifest = digest.Digest(f[2])
		}
	}
	if manifest == "" {
		t.Fatalf("ctr images ls lists no %s", name)
	}
	if !m.cd.Unpacked(t, ns, name) {
		t.Errorf("ctr images check: %s is not unpacked", name)
	}
	var man struct {
		Config struct{ Digest digest.Digest }
	}
	if err := json.Unmarshal(m.cd.Ctr(t, ns, "content", "get", string(manifest)), &man); err != nil {
		t.Fatal(err)
	}
	return []digest.Digest{manifest}, man.Config.Digest
}

// checkPodman: podman image inspect gives the image ID and the digests of
// the manifests podman was given for it. podman keeps one image per image
// ID, so the same image loaded under several names, from several
// manifests, holds all of them: NAME@DIGEST for each in RepoDigests.
func checkPodman(t *testing.T, m *matrix, _, name string) ([]digest.Digest, digest.Digest) {
	var imgs []struct {
		ID          string `json:"Id"`
		RepoDigests []string
	}
	if err := json.Unmarshal(m.pm.Run(t, "image", "inspect", name), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("podman image inspect %s: %v", name, err)
	}
	img := imgs[0]
	repo := name[:strings.LastIndex(name, ":")]
	var manifests []digest.Digest
	for _, rd := range img.RepoDigests {
		if d, ok := strings.CutPrefix(rd, repo+"@"); ok {
			manifests = append(manifests, digest.Digest(d))
		}
	}
	return manifests, digest.Digest("sha256:" + img.ID)
}

func one(manifest, config digest.Digest) ([]digest.Digest, digest.Digest) {
	return []digest.Digest{manifest}, config
}
