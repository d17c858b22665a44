package compiler

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flow-lang/flow/lang"
)

// exprString renders an expression compactly, e.g. "x @ W + b".
func exprString(e lang.Expr) string {
	b := exprWriter{max: -1}
	b.expr(e)
	return b.String()
}

// maxLabel is the length at which exprLabel cuts an expression short.
const maxLabel = 72

// exprLabel renders an expression as diagnostics quote it: as
// exprString does, cut short with "…" past maxLabel bytes, so that an
// expression of thousands of terms makes a readable message and costs no
// more than its depth to quote.
func exprLabel(e lang.Expr) string {
	b := exprWriter{max: maxLabel}
	b.expr(e)
	if b.cut {
		return b.String() + "…"
	}
	return b.String()
}

// label is the operand as messages name it: its name, or its expression
// (exprLabel); "" for a literal.
func (v value) label() string {
	if v.name != "" || v.expr == nil {
		return v.name
	}
	return exprLabel(v.expr)
}

// exprWriter accumulates an expression's text up to max bytes (no limit
// when max < 0), noting whether it cut any.
type exprWriter struct {
	strings.Builder
	max int
	cut bool
}

// WriteString appends s, as much of it as the limit allows (cut at a
// rune boundary).
func (b *exprWriter) WriteString(s string) (int, error) {
	if b.max >= 0 && b.Len()+len(s) > b.max {
		n := max(b.max-b.Len(), 0)
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, b.cut = s[:n], true
	}
	return b.Builder.WriteString(s)
}

// WriteByte appends c unless the limit is reached.
func (b *exprWriter) WriteByte(c byte) error {
	_, err := b.WriteString(string(rune(c)))
	return err
}

// expr appends e's text, unless the limit is already reached.
func (b *exprWriter) expr(e lang.Expr) {
	if !b.cut {
		writeExpr(b, e)
	}
}

func writeExpr(b *exprWriter, e lang.Expr) {
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
			b.expr(el)
		}
		b.WriteByte(']')
	case *lang.ParenExpr:
		b.WriteByte('(')
		b.expr(e.X)
		b.WriteByte(')')
	case *lang.UnaryExpr:
		b.WriteString(e.Op)
		b.expr(e.X)
	case *lang.BinaryExpr:
		b.expr(e.X)
		b.WriteString(" " + e.Op + " ")
		b.expr(e.Y)
	case *lang.CallExpr:
		b.WriteString(e.Func.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.expr(a)
		}
		for i, kw := range e.Kwargs {
			if i > 0 || len(e.Args) > 0 {
				b.WriteString(", ")
			}
			b.WriteString(kw.Name.Name + " = ")
			b.expr(kw.Value)
		}
		b.WriteByte(')')
	case *lang.IfExpr:
		b.WriteString("if ")
		b.expr(e.Cond)
		b.WriteString(" {…}")
	case *lang.WhileExpr:
		b.WriteString("while (…) ")
		b.expr(e.Cond)
		b.WriteString(" {…}")
	case *lang.ForExpr:
		b.WriteString("for … {…}")
	}
}
