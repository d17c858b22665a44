package lang

import (
	"reflect"
	"sort"
)

// Walk traverses the AST rooted at n in depth-first pre-order: it calls
// fn(n), and if fn returns true, walks each child of n in source order.
// Nil nodes (including typed nil pointers) are skipped. Walk does not visit
// File.Comments; they are not part of the tree.
func Walk(n Node, fn func(Node) bool) {
	if isNil(n) || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *File:
		walkFile(n, fn)
	case *Model:
		Walk(n.Name, fn)
		for _, d := range n.Decls {
			Walk(d, fn)
		}
	case *InputDecl:
		Walk(n.Name, fn)
		Walk(n.Type, fn)
	case *ParamDecl:
		Walk(n.Name, fn)
		Walk(n.Type, fn)
		Walk(n.Init, fn)
	case *AssignStmt:
		for _, name := range n.Targets() {
			Walk(name, fn)
		}
		Walk(n.Value, fn)
	case *OutputStmt:
		for _, name := range n.Names {
			Walk(name, fn)
		}
	case *TrainStmt:
		Walk(n.Loss, fn)
		Walk(n.Optimizer, fn)
	case *ImportDecl:
		Walk(n.Path, fn)
	case *ConstDecl:
		Walk(n.Name, fn)
		Walk(n.Value, fn)
	case *FuncDecl:
		Walk(n.Name, fn)
		for _, p := range n.Params {
			Walk(p, fn)
		}
		Walk(n.Result, fn)
		for _, d := range n.Body {
			Walk(d, fn)
		}
	case *FuncParam:
		Walk(n.Name, fn)
		Walk(n.Type, fn)
		Walk(n.Default, fn)
	case *ReturnStmt:
		Walk(n.Value, fn)
	case *TypeExpr:
		Walk(n.DType, fn)
		for _, d := range n.Dims {
			Walk(d, fn)
		}
	case *ListLit:
		for _, e := range n.Elems {
			Walk(e, fn)
		}
	case *UnaryExpr:
		Walk(n.X, fn)
	case *BinaryExpr:
		Walk(n.X, fn)
		Walk(n.Y, fn)
	case *CallExpr:
		Walk(n.Func, fn)
		for _, a := range n.Args {
			Walk(a, fn)
		}
		for _, kw := range n.Kwargs {
			Walk(kw, fn)
		}
	case *KeywordArg:
		Walk(n.Name, fn)
		Walk(n.Value, fn)
	case *ParenExpr:
		Walk(n.X, fn)
	case *IfExpr:
		Walk(n.Cond, fn)
		Walk(n.Then, fn)
		Walk(n.ElseIf, fn)
		Walk(n.Else, fn)
	case *Block:
		for _, d := range n.Stmts {
			Walk(d, fn)
		}
		for _, e := range n.Result {
			Walk(e, fn)
		}
		Walk(n.Yield, fn)
	case *YieldStmt:
		for _, e := range n.Values {
			Walk(e, fn)
		}
	case *WhileExpr:
		for _, cv := range n.Carried {
			Walk(cv, fn)
		}
		Walk(n.Cond, fn)
		Walk(n.Limit, fn)
		Walk(n.Body, fn)
	case *ForExpr:
		for _, s := range n.Seqs {
			Walk(s, fn)
		}
		Walk(n.Axis, fn)
		for _, cv := range n.Carried {
			Walk(cv, fn)
		}
		Walk(n.Body, fn)
	case *Carried:
		Walk(n.Name, fn)
		Walk(n.Init, fn)
	case *ForSeq:
		Walk(n.Name, fn)
		Walk(n.Seq, fn)
	}
	// *Comment, *DimExpr, *Ident, *NumberLit and *StringLit are leaves.
}

// walkFile walks the file-level declarations of f in source order.
func walkFile(f *File, fn func(Node) bool) {
	for _, n := range f.decls() {
		Walk(n, fn)
	}
}

// isNil reports whether n is nil or a nil pointer in an interface.
func isNil(n Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// decls returns the file-level declarations of f (imports, constants,
// functions, models) in source order.
func (f *File) decls() []Node {
	var nodes []Node
	for _, n := range f.Imports {
		nodes = append(nodes, n)
	}
	for _, n := range f.Consts {
		nodes = append(nodes, n)
	}
	for _, n := range f.Funcs {
		nodes = append(nodes, n)
	}
	for _, n := range f.Models {
		nodes = append(nodes, n)
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Position().Offset < nodes[j].Position().Offset })
	return nodes
}
