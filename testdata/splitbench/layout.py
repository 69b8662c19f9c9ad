# Makes an OCI layout "L" with one image "big": layers of the given MB,
# random bytes behind a gzip magic (so ferry frames them raw, as real
# gzip layers), media type tar+gzip.
import hashlib, json, os, sys
d = sys.argv[1]; sizes = [int(x) for x in sys.argv[2:]]
b = os.path.join(d, "blobs", "sha256"); os.makedirs(b, exist_ok=True)
def put(data=None, path=None):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(b, h), "wb").write(data); return "sha256:" + h, len(data)
layers = []
for i, mb in enumerate(sizes):
    tmp = os.path.join(b, "tmp"); h = hashlib.sha256(); n = 0
    with open(tmp, "wb") as f:
        first = True
        for _ in range(mb):
            chunk = os.urandom(1 << 20)
            if first: chunk = b"\x1f\x8b" + chunk[2:]; first = False
            f.write(chunk); h.update(chunk); n += len(chunk)
    os.rename(tmp, os.path.join(b, h.hexdigest()))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + h.hexdigest(), "size": n})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
cd, cs = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": layers}).encode()
md, ms = put(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
    "annotations": {"org.opencontainers.image.ref.name": "big"}}]}, open(os.path.join(d, "index.json"), "w"))
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
