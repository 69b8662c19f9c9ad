package runtimetest

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// UmociChain builds, with umoci, n images tagged v1…vn in layoutDir where
// each adds one layer of layerBytes pseudo-random bytes to the one before,
// as successive releases of one application do, and is created an hour
// after it. It returns the tags.
func UmociChain(t testing.TB, layoutDir string, n, layerBytes int, seed int64) []string {
	t.Helper()
	NeedTool(t, "umoci")
	UmociImage(t, layoutDir, "v1", seed, 1, layerBytes)
	tags := []string{"v1"}
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	for i := 2; i <= n; i++ {
		prev, tag := layoutDir+":"+tags[len(tags)-1], fmt.Sprintf("v%d", i)
		bundle := filepath.Join(t.TempDir(), "bundle")
		run(t, "umoci", "unpack", "--rootless", "--image", prev, bundle)
		writeRandom(t, filepath.Join(bundle, "rootfs"), tag, rng, layerBytes)
		run(t, "umoci", "repack", "--refresh-bundle", "--no-history", "--image", layoutDir+":"+tag, bundle)
		run(t, "umoci", "config", "--no-history", "--image", layoutDir+":"+tag,
			"--created="+fixed.Add(time.Duration(i-1)*time.Hour).Format(time.RFC3339))
		tags = append(tags, tag)
	}
	return tags
}
