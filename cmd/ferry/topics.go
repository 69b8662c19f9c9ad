package main

// topic is a page of `ferry help TOPIC` and a section of ferry(1): what no
// single command's flags say.
type topic struct {
	Name, Title, Text string
}

var topics = []topic{
	{Name: "transports", Title: "Transports", Text: `
Images are named as skopeo names them:

  oci:DIR[:NAME]             an OCI image layout; NAME is the org.opencontainers.image.ref.name
  oci-archive:FILE[:NAME]    a tar of an OCI image layout
  docker-archive:FILE[:REF]  what docker save writes (legacy layout and Docker 25's OCI layout)
  docker://REF               a registry: HOST[:PORT]/REPO:TAG or @DIGEST to read; HOST[:PORT][/PREFIX] to write
  docker-daemon:REF          the Docker engine at DOCKER_HOST (Linux)
  containerd:REF             containerd at CONTAINERD_ADDRESS, namespace CONTAINERD_NAMESPACE (Linux)
  podman:REF                 podman's storage (Linux)
  NAME[:TAG][@DIGEST]        a bare name: an image of the store (save and pull look further, see --from)

An existing file named without a transport (./app.tar) is read as a docker save archive by pull, push and copy.`},
	{Name: "exit-codes", Title: "Exit status", Text: `
0 success.

1 verification failed or bad input: a damaged or unsigned bundle, an unknown site or image, a bad name, a file named on the command line that is not there or is a directory, a replayed or misaddressed bundle, a missing prerequisite, a refused downgrade, a login the registry refused.

2 usage error or internal fault: a wrong flag, a full disk, a bug.`},
	{Name: "environment", Title: "Environment", Text: `
FERRY_HOME: the home (store, catalog, keys); unset or empty, $XDG_DATA_HOME/ferry, else ~/.local/share/ferry.

SOURCE_DATE_EPOCH: a bundle's created time, so that the same inputs give the same bytes.

REGISTRY_AUTH_FILE, DOCKER_CONFIG: where registry logins are read and ferry login writes them (REGISTRY_AUTH_FILE first, else DOCKER_CONFIG/config.json, else ~/.docker/config.json).

DOCKER_HOST, CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE, CONTAINERS_STORAGE_CONF: where the container runtimes are.`},
	{Name: "files", Title: "Files", Text: `
  HOME/store/          the blob store, an OCI image layout skopeo and umoci read
  HOME/catalog.db      the catalog (bbolt): blobs, images, sites, inventories, bundles
  HOME/keys/id_ed25519 this site's signing key (and .pub, for other sites)
  NAME.ferry           a bundle: zstd-compressed tar, signed index first
  SITE-receipt.ferry   a receipt a site writes when it loads a bundle

The formats are specified in spec/bundle-v1.md, spec/receipt-v1.md and spec/catalog-v1.md.`},
}
