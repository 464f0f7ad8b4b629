package infra_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
