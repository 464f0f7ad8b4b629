package infra_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"github.com/zclconf/go-cty/cty/gocty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// linodeModule is the parsed Linode module (not its example).
func linodeModule(t *testing.T) *module {
	t.Helper()
	for _, m := range parseModules(t, "terraform") {
		if filepath.Base(m.dir) == "linode" {
			return m
		}
	}
	t.Fatal("no terraform/linode module")
	return nil
}

// tfFunctions are the Terraform functions the module uses, from go-cty's
// library where Terraform takes them from there, small equivalents
// otherwise.
func tfFunctions(moduleDir string) map[string]function.Function {
	str1 := func(f func(string) string) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{{Name: "s", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(f(args[0].AsString())), nil
			},
		})
	}
	str2bool := func(f func(string, string) bool) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "sub", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
			},
		})
	}
	to := func(ty cty.Type) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
			Type:   function.StaticReturnType(ty),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return convert.Convert(args[0], ty)
			},
		})
	}
	return map[string]function.Function{
		"base64encode": str1(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }),
		"urlencode":    str1(url.QueryEscape),
		"file": str1(func(s string) string {
			b, err := os.ReadFile(filepath.Join(moduleDir, s))
			if err != nil {
				return "missing file " + s
			}
			return string(b)
		}),
		"strcontains": str2bool(strings.Contains),
		"startswith":  str2bool(strings.HasPrefix),
		"endswith":    str2bool(strings.HasSuffix),
		"tostring":    to(cty.String),
		"tonumber":    to(cty.Number),
		"concat":      stdlib.ConcatFunc,
		"coalesce":    stdlib.CoalesceFunc,
		"compact":     stdlib.CompactFunc,
		"contains":    stdlib.ContainsFunc,
		"distinct":    stdlib.DistinctFunc,
		"flatten":     stdlib.FlattenFunc,
		"format":      stdlib.FormatFunc,
		"join":        stdlib.JoinFunc,
		"jsondecode":  stdlib.JSONDecodeFunc,
		"keys":        stdlib.KeysFunc,
		"lookup":      stdlib.LookupFunc,
		"length":      stdlib.LengthFunc,
		"lower":       stdlib.LowerFunc,
		"merge":       stdlib.MergeFunc,
		"range":       stdlib.RangeFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     stdlib.ReplaceFunc,
		"reverse":     stdlib.ReverseListFunc,
		"split":       stdlib.SplitFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"upper":       stdlib.UpperFunc,
		"values":      stdlib.ValuesFunc,
	}
}

// fakeState stands for what the provider knows after apply: addresses and
// keys of made-up resources, enough for the module's locals to evaluate.
func fakeState(edges, workers, gateways int) map[string]cty.Value {
	instances := func(role string, n int) cty.Value {
		var l []cty.Value
		for i := range n {
			l = append(l, cty.ObjectVal(map[string]cty.Value{
				"id":                 cty.StringVal(fmt.Sprintf("%s-%d", role, i)),
				"ip_address":         cty.StringVal(fmt.Sprintf("198.51.100.%d", 10*len(role)+i)),
				"ipv6":               cty.StringVal(fmt.Sprintf("2001:db8::%x:%d/128", len(role), i)),
				"private_ip_address": cty.StringVal(fmt.Sprintf("192.168.130.%d", 10*len(role)+i)),
			}))
		}
		if len(l) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(l)
	}
	return map[string]cty.Value{
		"linode_instance": cty.ObjectVal(map[string]cty.Value{
			"edge":    instances("edge", edges),
			"worker":  instances("worker", workers),
			"gateway": instances("gateway", gateways),
			"redis": cty.ObjectVal(map[string]cty.Value{
				"id":                 cty.StringVal("redis"),
				"private_ip_address": cty.StringVal("192.168.130.200"),
			}),
		}),
		"linode_nodebalancer": cty.ObjectVal(map[string]cty.Value{
			"mail": cty.ObjectVal(map[string]cty.Value{
				"id": cty.StringVal("nb"), "ipv4": cty.StringVal("203.0.113.50"), "ipv6": cty.StringVal("2001:db8::50"),
			}),
		}),
		"linode_object_storage_bucket": cty.ObjectVal(map[string]cty.Value{
			"mail": cty.ObjectVal(map[string]cty.Value{
				"label": cty.StringVal("example-org-mail"), "region": cty.StringVal("de-fra-2"),
				"s3_endpoint": cty.StringVal("de-fra-2.provider-assigned.example"),
			}),
		}),
		"linode_object_storage_key": cty.ObjectVal(map[string]cty.Value{
			"mail": cty.ObjectVal(map[string]cty.Value{
				"access_key": cty.StringVal("ACCESSKEY"), "secret_key": cty.StringVal("SECRETKEY"),
			}),
		}),
	}
}

// requiredVars are values of the module's variables without a default, as
// in terraform.tfvars.example.
var requiredVars = map[string]any{
	"region":          "de-fra-2",
	"authorized_keys": []string{"ssh-ed25519 AAAA test"},
	"domain":          "example.org",
	"soa_email":       "hostmaster@example.org",
	"redis_password":  "0123456789abcdef0123456789abcdef0123456789abcdef",
	"bucket_name":     "example-org-mail",
	"release_url":     "https://example.org/bucketmail-linux-amd64",
	"release_sha256":  "0000000000000000000000000000000000000000000000000000000000000000",
}

// moduleVars are the module's variable values: each default, overridden by
// requiredVars and then set (Go values converted to the variable's type).
func moduleVars(t *testing.T, m *module, set map[string]any) cty.Value {
	t.Helper()
	all := map[string]any{}
	for k, v := range requiredVars {
		all[k] = v
	}
	for k, v := range set {
		all[k] = v
	}
	set = all
	vars := map[string]cty.Value{}
	for _, b := range m.blocks("variable") {
		name := b.Labels[0]
		ty := cty.DynamicPseudoType
		if a, ok := b.Body.Attributes["type"]; ok {
			var diags hcl.Diagnostics
			ty, diags = typeExpr(a.Expr)
			if diags.HasErrors() {
				t.Fatalf("variable %s: %s", name, diags.Error())
			}
		}
		v := cty.NullVal(ty)
		if a, ok := b.Body.Attributes["default"]; ok {
			dv, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s: default: %s", name, diags.Error())
			}
			v = dv
		}
		if cv, ok := set[name].(cty.Value); ok {
			v = cv
		} else if g, ok := set[name]; ok {
			gt, err := gocty.ImpliedType(g)
			if err != nil {
				t.Fatalf("variable %s: %v", name, err)
			}
			if v, err = gocty.ToCtyValue(g, gt); err != nil {
				t.Fatalf("variable %s: %v", name, err)
			}
		}
		if ty != cty.DynamicPseudoType && !v.IsNull() {
			cv, err := convert.Convert(v, ty)
			if err != nil {
				t.Fatalf("variable %s: %v", name, err)
			}
			v = cv
		}
		vars[name] = v
	}
	for name := range set {
		if _, ok := vars[name]; !ok {
			t.Fatalf("module has no variable %q", name)
		}
	}
	return cty.ObjectVal(vars)
}

// evalLocals evaluates every local of m with vars and a fake state. A local
// whose evaluation fails is reported as an error of the test: all of them
// must evaluate, or the module would not plan.
func evalLocals(t *testing.T, m *module, vars cty.Value, state map[string]cty.Value) *hcl.EvalContext {
	t.Helper()
	exprs := map[string]hcl.Expression{}
	for _, b := range m.blocks("locals") {
		for name, a := range b.Body.Attributes {
			exprs[name] = a.Expr
		}
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: tfFunctions(m.dir)}
	for k, v := range state {
		ctx.Variables[k] = v
	}
	ctx.Variables["var"] = vars
	ctx.Variables["path"] = cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(".")})
	done := map[string]cty.Value{}
	var lastErr map[string]string
	for len(done) < len(exprs) {
		progress := false
		lastErr = map[string]string{}
		ctx.Variables["local"] = cty.ObjectVal(done)
		for name, e := range exprs {
			if _, ok := done[name]; ok {
				continue
			}
			v, diags := e.Value(ctx)
			if diags.HasErrors() {
				lastErr[name] = diags.Error()
				continue
			}
			done[name] = v
			progress = true
		}
		if !progress {
			for name, e := range lastErr {
				t.Errorf("local.%s does not evaluate: %s", name, e)
			}
			break
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(done)
	return ctx
}

// typeExpr reads a Terraform type constraint (string, list(string),
// map(string), list(object({...})) with optional attributes).
func typeExpr(e hcl.Expression) (cty.Type, hcl.Diagnostics) {
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		switch x.Traversal.RootName() {
		case "string":
			return cty.String, nil
		case "number":
			return cty.Number, nil
		case "bool":
			return cty.Bool, nil
		case "any":
			return cty.DynamicPseudoType, nil
		}
	case *hclsyntax.FunctionCallExpr:
		if x.Name == "optional" {
			return typeExpr(x.Args[0])
		}
		if len(x.Args) != 1 {
			break
		}
		if x.Name == "object" {
			obj, ok := x.Args[0].(*hclsyntax.ObjectConsExpr)
			if !ok {
				break
			}
			attrs := map[string]cty.Type{}
			var optional []string
			for _, item := range obj.Items {
				k := hcl.ExprAsKeyword(item.KeyExpr)
				at, diags := typeExpr(item.ValueExpr)
				if diags.HasErrors() {
					return cty.NilType, diags
				}
				attrs[k] = at
				if c, ok := item.ValueExpr.(*hclsyntax.FunctionCallExpr); ok && c.Name == "optional" {
					optional = append(optional, k)
				}
			}
			return cty.ObjectWithOptionalAttrs(attrs, optional), nil
		}
		elem, diags := typeExpr(x.Args[0])
		if diags.HasErrors() {
			return cty.NilType, diags
		}
		switch x.Name {
		case "list":
			return cty.List(elem), nil
		case "map":
			return cty.Map(elem), nil
		case "set":
			return cty.Set(elem), nil
		}
	}
	return cty.NilType, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "unknown type constraint", Subject: e.Range().Ptr()}}
}

// jsonValue decodes JSON text into a cty value, as Terraform's jsondecode.
func jsonValue(t *testing.T, src string) cty.Value {
	t.Helper()
	ty, err := ctyjson.ImpliedType([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ctyjson.Unmarshal([]byte(src), ty)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// attrValue evaluates one attribute of a block (nested blocks by type).
func attrValue(t *testing.T, ctx *hcl.EvalContext, body *hclsyntax.Body, name string) (cty.Value, bool) {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		return cty.NilVal, false
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		t.Errorf("%s: %s", a.SrcRange, diags.Error())
		return cty.NilVal, false
	}
	return v, true
}

// resourceBlock finds resource TYPE NAME in m.
func resourceBlock(t *testing.T, m *module, typ, name string) *hclsyntax.Block {
	t.Helper()
	for _, b := range m.blocks("resource") {
		if b.Labels[0] == typ && b.Labels[1] == name {
			return b
		}
	}
	t.Fatalf("no resource %s.%s", typ, name)
	return nil
}
