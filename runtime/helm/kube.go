package helm

// DefaultKubeVersion is the Kubernetes version charts are rendered for
// unless told otherwise (.Capabilities.KubeVersion): the newest minor that
// the Kubernetes client libraries of the Helm SDK this ferry is built
// with know. helm.sh/helm/v4 v4.3.1 pins k8s.io/client-go v0.37, which is
// Kubernetes 1.37; TestDefaultKubeVersion checks this against go.mod, so
// a dependency upgrade that moves client-go fails until it is updated.
// (The SDK's own default, without Helm's build flags or in a test binary,
// is Kubernetes 1.20, for which many charts refuse to render.)
const DefaultKubeVersion = "v1.37.0"
