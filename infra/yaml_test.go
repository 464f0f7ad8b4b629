package infra_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// k8sObject is the part of a Kubernetes manifest the checks look at.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	raw  map[string]any // the whole document
	file string
}

// readManifests decodes every document of every YAML file in dir.
func readManifests(t *testing.T, dir string) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no YAML in %s (%v)", dir, err)
	}
	var objs []k8sObject
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(r)
		for i := 0; ; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: document %d: %v", f, i, err)
				break
			}
			var o k8sObject
			if err := n.Decode(&o); err != nil {
				t.Errorf("%s: document %d: %v", f, i, err)
				continue
			}
			if err := n.Decode(&o.raw); err != nil {
				t.Errorf("%s: document %d: %v", f, i, err)
			}
			o.file = f
			if o.Kind == "Kustomization" {
				continue
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: document %d lacks apiVersion, kind or metadata.name", f, i)
			}
			objs = append(objs, o)
		}
		r.Close()
	}
	return objs
}

// get walks a decoded YAML value by map keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	objs := readManifests(t, "k8s")
	byKind := map[string]map[string]k8sObject{}
	for _, o := range objs {
		if byKind[o.Kind] == nil {
			byKind[o.Kind] = map[string]k8sObject{}
		}
		byKind[o.Kind][o.Metadata.Name] = o
	}
	for _, role := range []string{"edge", "worker", "gateway"} {
		name := "bucketmail-" + role
		d, ok := byKind["Deployment"][name]
		if !ok {
			t.Errorf("no Deployment %s", name)
			continue
		}
		c := get(d.raw, "spec", "template", "spec", "containers", 0)
		if args := get(c, "args", 0); args != role {
			t.Errorf("%s runs %v, want %s", name, args, role)
		}
		if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
			t.Errorf("%s: readiness probe path %v, want /readyz", name, p)
		}
		if _, ok := byKind["PodDisruptionBudget"][name]; !ok {
			t.Errorf("no PodDisruptionBudget for %s", name)
		}
		if role != "worker" {
			if _, ok := byKind["Service"][name]; !ok {
				t.Errorf("no Service for %s", name)
			}
		}
	}
	for _, kind := range []string{"ConfigMap", "Secret"} {
		if len(byKind[kind]) == 0 {
			t.Errorf("no %s", kind)
		}
	}
	so, ok := byKind["ScaledObject"]["bucketmail-worker"]
	if !ok {
		t.Fatal("no KEDA ScaledObject for the workers")
	}
	if get(so.raw, "spec", "scaleTargetRef", "name") != "bucketmail-worker" || get(so.raw, "spec", "minReplicaCount") != 0 {
		t.Errorf("ScaledObject must target bucketmail-worker with minReplicaCount 0: %v", so.raw["spec"])
	}
	streams := 0
	for _, tr := range get(so.raw, "spec", "triggers").([]any) {
		if get(tr, "type") != "redis-streams" {
			continue
		}
		streams++
		if get(tr, "metadata", "consumerGroup") != "bucketmail" || get(tr, "metadata", "lagCount") == nil {
			t.Errorf("redis-streams trigger must use group bucketmail and lagCount: %v", tr)
		}
		if s, _ := get(tr, "metadata", "stream").(string); !strings.HasPrefix(s, "{q:") || !strings.HasSuffix(s, "}:stream") {
			t.Errorf("redis-streams trigger stream %q is not a queue stream", s)
		}
	}
	if streams != 2 {
		t.Errorf("%d redis-streams triggers, want 2 (inbound and outbound)", streams)
	}
}

// TestKubernetesPodsCanStart checks the pods against the image: the pod
// user is the image's numeric user (runAsNonRoot cannot check a name, so
// the kubelet refuses to start), a read-only root file system comes with
// a writable /tmp (os.CreateTemp), and the pods behind a NodeBalancer take
// the client's address from its PROXY v2 header.
func TestKubernetesPodsCanStart(t *testing.T) {
	uid := dockerfileUser(t)
	for _, o := range readManifests(t, "k8s") {
		if o.Kind != "Deployment" {
			continue
		}
		pod := get(o.raw, "spec", "template", "spec")
		if get(pod, "securityContext", "runAsNonRoot") == true {
			if u := get(pod, "securityContext", "runAsUser"); u != uid {
				t.Errorf("%s: runAsNonRoot with runAsUser %v; the image runs as %d", o.Metadata.Name, u, uid)
			}
		}
		emptyDirs := map[string]bool{}
		for _, v := range asList(get(pod, "volumes")) {
			if m, ok := v.(map[string]any); ok {
				if _, ok := m["emptyDir"]; ok {
					emptyDirs[m["name"].(string)] = true
				}
			}
		}
		for _, c := range asList(get(pod, "containers")) {
			if get(c, "securityContext", "readOnlyRootFilesystem") != true {
				continue
			}
			tmp := false
			for _, vm := range asList(get(c, "volumeMounts")) {
				tmp = tmp || (get(vm, "mountPath") == "/tmp" && emptyDirs[get(vm, "name").(string)])
			}
			if !tmp {
				t.Errorf("%s: read-only root file system without an emptyDir at /tmp", o.Metadata.Name)
			}
		}
	}
	objs := readManifests(t, "k8s")
	for _, role := range []string{"edge", "gateway"} {
		name := "bucketmail-" + role
		for _, o := range objs {
			if o.Metadata.Name != name {
				continue
			}
			switch o.Kind {
			case "Service":
				if v := get(o.raw, "metadata", "annotations", "service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol"); v != "v2" {
					t.Errorf("Service %s: NodeBalancer proxy protocol %v, want v2", name, v)
				}
			case "Deployment":
				found := false
				for _, e := range asList(get(o.raw, "spec", "template", "spec", "containers", 0, "env")) {
					found = found || (get(e, "name") == "BUCKETMAIL_PROXY_PROTOCOL_FROM" && get(e, "value") == "192.168.255.0/24")
				}
				if !found {
					t.Errorf("Deployment %s: no BUCKETMAIL_PROXY_PROTOCOL_FROM for the NodeBalancer range", name)
				}
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

var dockerUser = regexp.MustCompile(`(?m)^USER\s+(\S+)`)

// dockerfileUser is the numeric user of the image; a name fails the test.
func dockerfileUser(t *testing.T) int {
	t.Helper()
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := dockerUser.FindAllSubmatch(src, -1)
	if len(m) == 0 {
		t.Fatal("Dockerfile sets no USER")
	}
	user, _, _ := strings.Cut(string(m[len(m)-1][1]), ":")
	uid, err := strconv.Atoi(user)
	if err != nil {
		t.Fatalf("Dockerfile USER %s is not numeric: Kubernetes runAsNonRoot cannot verify a name", m[len(m)-1][1])
	}
	return uid
}

// TestDockerfileImagesQualified checks every FROM names its registry:
// podman and buildah have no default one.
func TestDockerfileImagesQualified(t *testing.T) {
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(?:--\S+\s+)*(\S+)`).FindAllSubmatch(src, -1)
	if len(froms) == 0 {
		t.Fatal("no FROM in the Dockerfile")
	}
	for _, f := range froms {
		host, _, ok := strings.Cut(string(f[1]), "/")
		if !ok || !strings.Contains(host, ".") {
			t.Errorf("FROM %s: image name without a registry host", f[1])
		}
	}
}
