package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// module is the parsed .tf files of one directory.
type module struct {
	dir   string
	files map[string]*hcl.File // by path
}

// parseModules parses every .tf file under root, grouped by directory.
func parseModules(t *testing.T, root string) []*module {
	t.Helper()
	p := hclparse.NewParser()
	byDir := map[string]*module{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return nil
		}
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Errorf("%s: %s", path, diags.Error())
			return nil
		}
		dir := filepath.Dir(path)
		if byDir[dir] == nil {
			byDir[dir] = &module{dir: dir, files: map[string]*hcl.File{}}
		}
		byDir[dir].files[path] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mods []*module
	for _, m := range byDir {
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].dir < mods[j].dir })
	if len(mods) == 0 {
		t.Fatalf("no .tf files under %s", root)
	}
	return mods
}

// blocks returns the top-level blocks of m of type typ.
func (m *module) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, path := range m.paths() {
		for _, b := range m.files[path].Body.(*hclsyntax.Body).Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

func (m *module) paths() []string {
	var ps []string
	for p := range m.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// traversals returns every variable traversal of the expressions in body,
// nested blocks included.
func traversals(body *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range body.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, b := range body.Blocks {
		out = append(out, traversals(b.Body)...)
	}
	return out
}

// attrName is the first attribute step of a traversal (var.X → X).
func attrName(tr hcl.Traversal) string {
	if len(tr) < 2 {
		return ""
	}
	if a, ok := tr[1].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// TestTerraformVariablesAndReferences checks each module: every variable is
// described and used; every var.X, local.X, module.X and resource
// reference names something declared in the same module.
func TestTerraformVariablesAndReferences(t *testing.T) {
	for _, m := range parseModules(t, "terraform") {
		t.Run(m.dir, func(t *testing.T) {
			declared := map[string]bool{}
			for _, b := range m.blocks("variable") {
				name := b.Labels[0]
				declared[name] = true
				a, ok := b.Body.Attributes["description"]
				if !ok {
					t.Errorf("variable %q has no description", name)
					continue
				}
				if v, diags := a.Expr.Value(nil); diags.HasErrors() || v.AsString() == "" {
					t.Errorf("variable %q: description is empty or not a literal", name)
				}
			}
			locals := map[string]bool{}
			for _, b := range m.blocks("locals") {
				for name := range b.Body.Attributes {
					if locals[name] {
						t.Errorf("local %q declared twice", name)
					}
					locals[name] = true
				}
			}
			resources := map[string]bool{}
			for _, b := range append(m.blocks("resource"), m.blocks("data")...) {
				resources[b.Labels[0]+"."+b.Labels[1]] = true
			}
			modules := map[string]bool{}
			for _, b := range m.blocks("module") {
				modules[b.Labels[0]] = true
			}

			used := map[string]bool{}
			for _, path := range m.paths() {
				for _, b := range m.files[path].Body.(*hclsyntax.Body).Blocks {
					if b.Type == "variable" {
						continue // a validation's own var.X is no use
					}
					for _, tr := range traversals(b.Body) {
						root, name := tr.RootName(), attrName(tr)
						where := tr.SourceRange().String()
						switch {
						case root == "var":
							used[name] = true
							if !declared[name] {
								t.Errorf("%s: var.%s is not declared", where, name)
							}
						case root == "local":
							if !locals[name] {
								t.Errorf("%s: local.%s is not declared", where, name)
							}
						case root == "module":
							if !modules[name] {
								t.Errorf("%s: module.%s is not declared", where, name)
							}
						case strings.HasPrefix(root, "linode_"):
							if !resources[root+"."+name] {
								t.Errorf("%s: %s.%s is not declared", where, root, name)
							}
						}
					}
				}
			}
			for name := range declared {
				if !used[name] {
					t.Errorf("variable %q is declared but never used", name)
				}
			}
			if len(declared) == 0 {
				t.Error("module declares no variables")
			}
		})
	}
}

// TestTerraformFixedChoices pins what the issue asks of the Linode module.
func TestTerraformFixedChoices(t *testing.T) {
	src := readAll(t, "terraform/linode", ".tf")
	for _, want := range []string{
		`source  = "linode/linode"`, `version = "~> 3.13"`,
		`resource "linode_rdns"`, `resource "linode_firewall" "edge"`, `ports    = "25,587,465"`,
		`resource "linode_nodebalancer_config"`, `proxy_protocol  = var.proxy_protocol`,
		`resource "linode_object_storage_key"`, `bucket_access {`,
		`resource "linode_domain"`, `user_data = base64encode(templatefile(`,
		`appendonly yes`, `requirepass`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("terraform/linode has no %q", want)
		}
	}
	// TXT values go to the Linode API bare: a literal quote would be
	// published as part of the record.
	if m := regexp.MustCompile(`"\\"v=`).FindString(src); m != "" {
		t.Errorf("a TXT value is written with literal quotes: %s", m)
	}
	for _, port := range []string{"143", "993", "110", "995", "4190", "587", "465"} {
		if !regexp.MustCompile(`port = ` + port + `,`).MatchString(src) {
			t.Errorf("no NodeBalancer config for port %s", port)
		}
	}
	example := readAll(t, "terraform/linode/example", ".example")
	if !strings.Contains(example, "release_url") || !strings.Contains(example, "redis_password") {
		t.Error("terraform.tfvars.example does not document the required variables")
	}
}

// readAll concatenates the files under dir whose names end in suffix.
func readAll(t *testing.T, dir, suffix string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, suffix) {
			return err
		}
		data, err := os.ReadFile(path)
		b.Write(data)
		b.WriteByte('\n')
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatalf("no %s files under %s", suffix, dir)
	}
	return b.String()
}

// templateCall is one templatefile(path, {vars}) call found in a module.
type templateCall struct {
	where string
	path  string // relative to the module directory
	vars  []string
}

var templatePath = regexp.MustCompile(`templates/[A-Za-z0-9_.-]+`)

// templateCalls finds every templatefile call of m. The path argument is
// either a template string or a local holding one; only its
// "templates/NAME" part matters.
func templateCalls(t *testing.T, m *module) []templateCall {
	t.Helper()
	localSrc := map[string]string{}
	src := map[string][]byte{}
	for _, path := range m.paths() {
		src[path] = m.files[path].Bytes
	}
	for _, b := range m.blocks("locals") {
		for name, a := range b.Body.Attributes {
			r := a.Expr.Range()
			localSrc[name] = string(r.SliceBytes(src[r.Filename]))
		}
	}
	var calls []templateCall
	for _, path := range m.paths() {
		body := m.files[path].Body.(*hclsyntax.Body)
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "templatefile" {
				return nil
			}
			where := call.NameRange.String()
			if len(call.Args) != 2 {
				t.Errorf("%s: templatefile wants 2 arguments", where)
				return nil
			}
			arg := string(call.Args[0].Range().SliceBytes(src[path]))
			if tr, ok := call.Args[0].(*hclsyntax.ScopeTraversalExpr); ok && tr.Traversal.RootName() == "local" {
				arg = localSrc[attrName(tr.Traversal)]
			}
			tp := templatePath.FindString(arg)
			if tp == "" {
				t.Errorf("%s: cannot tell the template of %s", where, arg)
				return nil
			}
			obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
			if !ok {
				t.Errorf("%s: the variables of templatefile must be an object literal", where)
				return nil
			}
			c := templateCall{where: where, path: tp}
			for _, item := range obj.Items {
				c.vars = append(c.vars, hcl.ExprAsKeyword(item.KeyExpr))
			}
			calls = append(calls, c)
			return nil
		})
	}
	return calls
}
