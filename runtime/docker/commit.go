package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ferryhq/ferry/spec"
)

// SnapshotRepo is the repository Commit tags snapshots in, followed by
// the container's name.
const SnapshotRepo = "ferry-snapshot/"

// Commit snapshots a container (by name or ID) as an image through the
// Engine API (POST /commit, the container paused meanwhile), tagged
// ferry-snapshot/<container name>:<UTC time as 20060102T150405Z>, and
// returns that reference, to read with FromDaemon.
func Commit(ctx context.Context, opts Options, container string) (string, error) {
	c, err := newClient(opts)
	if err != nil {
		return "", err
	}
	where := fmt.Sprintf("docker container %s (engine %s)", container, c.host)
	var info struct {
		Name string `json:"Name"`
	}
	if err := c.getJSON(ctx, "/containers/"+url.PathEscape(container)+"/json", nil, &info); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	repo := SnapshotRepo + repoComponent(strings.TrimPrefix(info.Name, "/"))
	tag := time.Now().UTC().Format("20060102T150405Z")
	q := url.Values{"container": {container}, "repo": {repo}, "tag": {tag}}
	resp, err := c.do(ctx, http.MethodPost, "/commit", q, nil)
	if err != nil {
		return "", fmt.Errorf("%s: commit: %w", where, err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"Id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil || out.ID == "" {
		return "", fmt.Errorf("%s: commit: no image ID in the answer: %w", where, spec.ErrCorrupt)
	}
	return repo + ":" + tag, nil
}

// component is one path component of a repository name.
var component = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

var notAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// repoComponent makes a container name (which may hold capitals and
// runs of punctuation) a valid repository path component.
func repoComponent(name string) string {
	s := strings.ToLower(name)
	if component.MatchString(s) {
		return s
	}
	s = strings.Trim(notAlnum.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "container"
	}
	return s
}
