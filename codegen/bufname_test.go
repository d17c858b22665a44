package codegen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

func TestBufNames(t *testing.T) {
	node := func(id int, name string) *ir.Node { return &ir.Node{ID: id, Name: name} }
	bufs := []*ir.Node{
		node(3, "h1"),        // unique: kept
		node(4, "hs/z"),      // hs_z
		node(5, ""),          // no name: t5
		node(6, "h"),         // shared with 7: both suffixed
		node(7, "h"),         //
		node(8, "x"),         // an input's argument
		node(9, "loss"),      // a method of Model
		node(10, "range"),    // a keyword
		node(11, "t12"),      // a generated name
		node(12, "size"),     // a local of generated code
		node(13, "h_6"),      // unique, so the shared h of 6 makes way
		node(14, "gemmPlan"), // not followed by a number: kept
	}
	grad := func(id, of int) *ir.Node { return &ir.Node{ID: id, GradOf: bufs[of-3]} }
	bufs = append(bufs,
		grad(15, 4), // the gradient of hs/z: hs_z_grad
		grad(16, 6), // of h, and so is 17: both suffixed
		grad(17, 7),
		grad(18, 5), // of an unnamed value: t18
	)
	nm := names{argNames: map[*ir.Node]string{node(1, "x"): "x"}, symIdent: map[string]string{"N": "n"}}
	got := nm.bufNames(bufs)
	want := []string{"h1", "hs_z", "t5", "h_6_", "h_7", "x_8", "loss_9", "range_10", "t12_11", "size_12", "h_6", "gemmPlan",
		"hs_z_grad", "h_grad_16", "h_grad_17", "t18"}
	for i, n := range bufs {
		require.Equal(t, want[i], got[n], "node %d (%q)", n.ID, n.Name)
	}
}

// TestReservedNamesCoverGeneratedIdentifiers checks that every
// identifier the generator writes literally (jen.Id("x"), .Dot("x")) is
// one a buffer cannot take, so that a buffer's local never shadows it.
func TestReservedNamesCoverGeneratedIdentifiers(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fs := token.NewFileSet()
	for _, name := range files {
		if filepath.Ext(name) != ".go" || len(name) > 8 && name[len(name)-8:] == "_test.go" {
			continue
		}
		f, err := parser.ParseFile(fs, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(x ast.Node) bool {
			call, ok := x.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Id" && sel.Sel.Name != "Dot") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			id, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			if !reservedName(id) {
				t.Errorf("%s: %s(%q) is not a reserved name (generatedLocals, generatedNames)", fs.Position(lit.Pos()), sel.Sel.Name, id)
			}
			return true
		})
	}
}
