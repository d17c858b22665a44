package compiler

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// This file phrases the errors of ops applied to operands that do not
// fit: both operands' types and where each came from, so that
//
//	x @ W: inner dimensions differ: x is f32[N,784] (line 3), W is f32[748,10] (line 6)
//
// says which declaration to fix.

// operandNote describes an operand of type t for a message at pos: its
// text, its type and the line it was declared or computed on
// (file:line:col when that is another file). A tensor literal shows its
// type alone; numbers have no note.
func operandNote(at lang.Pos, v value, t ir.Type, suffix string) string {
	if v.label() == "" || v.lit && v.tens == nil || !v.lit && v.node == nil {
		return ""
	}
	note := fmt.Sprintf("%s is %s%s", v.label(), t, suffix)
	switch {
	case v.lit || !v.from.IsValid():
	case v.from.File != at.File:
		note += " (" + v.from.String() + ")"
	default:
		note += fmt.Sprintf(" (line %d)", v.from.Line)
	}
	return note
}

// operandFrom says where an operand whose type is already quoted comes
// from: " from x (line 3)", or "" for a literal.
func operandFrom(at lang.Pos, v value) string {
	if v.lit || v.node == nil || v.label() == "" {
		return ""
	}
	if !v.from.IsValid() {
		return " from " + v.label()
	}
	if v.from.File != at.File {
		return fmt.Sprintf(" from %s (%s)", v.label(), v.from)
	}
	return fmt.Sprintf(" from %s (line %d)", v.label(), v.from.Line)
}

// argText describes the argument pname of a function call, of type got,
// computed as v: "argument a (x is f32[N,4], line 6)", or "argument a
// (f32[N,4])" for a literal.
func argText(at lang.Pos, pname string, got ir.Type, v value) string {
	if v.lit || v.node == nil || v.label() == "" {
		return fmt.Sprintf("argument %s (%s)", pname, got)
	}
	where := ""
	switch {
	case !v.from.IsValid():
	case v.from.File != at.File:
		where = ", " + v.from.String()
	default:
		where = fmt.Sprintf(", line %d", v.from.Line)
	}
	return fmt.Sprintf("argument %s (%s is %s%s)", pname, v.label(), got, where)
}

// applyMessage phrases the error err of applying op to args (materialized
// as inputs) in the expression text, reported at pos. Shape mismatches of
// matmul and of broadcasting ops name both operands' shapes and origins;
// other errors keep the op's reason and add the operands' notes.
func applyMessage(pos lang.Pos, text, op string, args []value, inputs []*ir.Node, attrs ir.Attrs, err error) string {
	suffix := make([]string, len(args))
	reason, detail := err.Error(), ""
	shapeError := false
	// Only the op's own verdict decides which kind of mismatch this is;
	// the operands' shapes then say why.
	inner := strings.HasPrefix(reason, "inner dimensions differ") || strings.HasPrefix(reason, "batch axes of")
	broadcast := strings.Contains(reason, "do not broadcast")
	if (inner || broadcast) && len(inputs) == 2 && inputs[0] != nil && inputs[1] != nil && inputs[0].Type.DType == inputs[1].Type.DType {
		a, b := inputs[0].Type.Shape, inputs[1].Type.Shape
		def, _ := ir.Lookup(op)
		switch {
		case op == "matmul" && a.Rank() >= 2 && b.Rank() >= 2:
			ta, tb := attrs.Bool("transpose_a"), attrs.Bool("transpose_b")
			k1 := a[a.Rank()-1]
			if ta {
				k1 = a[a.Rank()-2]
				suffix[0] = " transposed"
			}
			k2 := b[b.Rank()-2]
			if tb {
				k2 = b[b.Rank()-1]
				suffix[1] = " transposed"
			}
			if k1 != k2 {
				reason, detail, shapeError = "inner dimensions differ", fmt.Sprintf("%s columns do not match %s rows", k1, k2), true
			} else if _, berr := ir.Broadcast(ir.MatmulBatch(a), ir.MatmulBatch(b)); berr != nil {
				reason, detail, shapeError = "batch axes do not broadcast", berr.Error(), true
			}
		case broadcast && def != nil && def.Elementwise:
			if _, berr := ir.Broadcast(a, b); berr != nil {
				reason, detail, shapeError = "shapes do not broadcast", berr.Error(), true
			}
		}
	}
	if !shapeError {
		suffix = make([]string, len(args))
	}
	var notes []string
	for i, a := range args {
		if i >= len(inputs) || inputs[i] == nil {
			continue
		}
		if note := operandNote(pos, a, inputs[i].Type, suffix[i]); note != "" {
			notes = append(notes, note)
		}
	}
	msg := text + ": " + reason
	switch {
	case shapeError && len(notes) > 0:
		msg += ": " + strings.Join(notes, ", ") + "; " + detail
	case shapeError:
		msg += ": " + detail
	case len(notes) > 0:
		msg += "; " + strings.Join(notes, ", ")
	}
	return msg
}
