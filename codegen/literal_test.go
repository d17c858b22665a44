package codegen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/runtime"
)

// runtimeTypes are the runtime struct types runtimeFields lists.
var runtimeTypes = map[string]reflect.Type{
	"Signature":  reflect.TypeOf(runtime.Signature{}),
	"TensorSpec": reflect.TypeOf(runtime.TensorSpec{}),
	"Param":      reflect.TypeOf(runtime.Param{}),
	"Estimate":   reflect.TypeOf(runtime.Estimate{}),
	"Memory":     reflect.TypeOf(runtime.Memory{}),
	"MemoryTerm": reflect.TypeOf(runtime.MemoryTerm{}),
	"ConvShape":  reflect.TypeOf(runtime.ConvShape{}),
	"PoolShape":  reflect.TypeOf(runtime.PoolShape{}),
	"GemmPlan":   reflect.TypeOf(runtime.GemmPlan{}),
	"ConvPlan":   reflect.TypeOf(runtime.ConvPlan{}),
}

// TestRuntimeLiteralsInDeclarationOrder checks that runtimeFields lists
// each runtime type's exported fields in the order its declaration gives
// them, and that every keyed struct literal of the generated examples
// (examples/gen, the goldens) sets its fields in that order: runtime
// types' by runtimeFields, the generated package's own (Model, the
// parallel loops' types) by their declarations there.
func TestRuntimeLiteralsInDeclarationOrder(t *testing.T) {
	require.Len(t, runtimeTypes, len(runtimeFields))
	for name, typ := range runtimeTypes {
		var want []string
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() {
				want = append(want, f.Name)
			}
		}
		require.Equal(t, want, runtimeFields[name], "runtime.%s", name)
	}
	files, err := filepath.Glob(filepath.Join("..", "examples", "gen", "*", "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	checked := map[string]int{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		fs := token.NewFileSet()
		f, err := parser.ParseFile(fs, path, nil, 0)
		require.NoError(t, err)
		local := map[string][]string{}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					if st, ok := ts.Type.(*ast.StructType); ok {
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								local[ts.Name.Name] = append(local[ts.Name.Name], n.Name)
							}
						}
					}
				}
			}
		}
		// order returns the declared field order of the struct type
		// written as typ, and its name; nil when it is not one checked.
		order := func(typ ast.Expr) ([]string, string) {
			switch typ := typ.(type) {
			case *ast.Ident:
				return local[typ.Name], typ.Name
			case *ast.SelectorExpr:
				if x, ok := typ.X.(*ast.Ident); ok && x.Name == "runtime" {
					return runtimeFields[typ.Sel.Name], "runtime." + typ.Sel.Name
				}
			}
			return nil, ""
		}
		check := func(lit *ast.CompositeLit, fields []string, name string) {
			if fields == nil || len(lit.Elts) == 0 {
				return
			}
			last := -1
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				require.True(t, ok, "%s: a %s literal with an unkeyed element", fs.Position(lit.Pos()), name)
				key := kv.Key.(*ast.Ident).Name
				i := slices.Index(fields, key)
				require.GreaterOrEqual(t, i, 0, "%s: %s has no field %s", fs.Position(kv.Pos()), name, key)
				require.Greater(t, i, last, "%s: field %s of a %s literal is out of declaration order %v", fs.Position(kv.Pos()), key, name, fields)
				last = i
			}
			checked[name]++
		}
		ast.Inspect(f, func(x ast.Node) bool {
			lit, ok := x.(*ast.CompositeLit)
			if !ok || lit.Type == nil {
				return true
			}
			if arr, ok := lit.Type.(*ast.ArrayType); ok {
				// Elements of []T{{...}} elide their type.
				fields, name := order(arr.Elt)
				for _, e := range lit.Elts {
					if el, ok := e.(*ast.CompositeLit); ok && el.Type == nil {
						check(el, fields, name)
					}
				}
				return true
			}
			fields, name := order(lit.Type)
			check(lit, fields, name)
			return true
		})
	}
	// The examples exercise every runtime type listed, Model and loops.
	for name := range runtimeFields {
		require.Positive(t, checked["runtime."+name], "no literal of runtime.%s in examples/gen", name)
	}
	require.Positive(t, checked["Model"], "no Model literal in examples/gen")
}
