package compiler

import (
	"strconv"
	"strings"

	"github.com/flow-lang/flow/lang"
)

// exprString renders an expression compactly for diagnostics, e.g.
// "x @ W + b".
func exprString(e lang.Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e lang.Expr) {
	switch e := e.(type) {
	case *lang.Ident:
		b.WriteString(e.Name)
	case *lang.NumberLit:
		b.WriteString(e.Text)
	case *lang.StringLit:
		b.WriteString(strconv.Quote(e.Value))
	case *lang.ListLit:
		b.WriteByte('[')
		for i, el := range e.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, el)
		}
		b.WriteByte(']')
	case *lang.ParenExpr:
		b.WriteByte('(')
		writeExpr(b, e.X)
		b.WriteByte(')')
	case *lang.UnaryExpr:
		b.WriteString(e.Op)
		writeExpr(b, e.X)
	case *lang.BinaryExpr:
		writeExpr(b, e.X)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.Y)
	case *lang.CallExpr:
		b.WriteString(e.Func.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a)
		}
		for i, kw := range e.Kwargs {
			if i > 0 || len(e.Args) > 0 {
				b.WriteString(", ")
			}
			b.WriteString(kw.Name.Name + " = ")
			writeExpr(b, kw.Value)
		}
		b.WriteByte(')')
	}
}
