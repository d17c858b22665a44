package compiler

import (
	"fmt"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// The call binder: every call of the language — an op, a user function,
// assign and its kin, an initializer, an optimizer — binds its positional
// and keyword arguments to the callee's parameters here, with one wording
// per mistake:
//
//   - an unknown keyword: noArgument (spell.go), which suggests flow's
//     name for another framework's spelling or a near miss;
//   - an argument given both by position and by keyword: "argument x of
//     f given twice";
//   - more positional arguments than the callee takes: "too many
//     arguments to f: it takes at most N (signature)", naming the
//     keyword-only arguments when there are any;
//   - a required argument not given: "f needs argument x (signature)",
//     every missing one in one message. It is not reported when the call
//     has an unknown keyword, which was most likely meant for it.
//
// The binder only places argument expressions; what they must be (a
// tensor, a constant of some kind) is the caller's business.

// slot is one parameter of a callee.
type slot struct {
	name     string
	required bool // must be given: it has no default
	keyword  bool // keyword only: no positional argument binds to it
	variadic bool // takes this and every later positional argument
	hidden   bool // accepted, but not listed in messages (a function call's name = scope)
}

// callee is what a call calls, as the binder sees it.
type callee struct {
	name  string // as the call names it
	sig   string // its signature, quoted in messages: sum(x, axes, keep_dims = false)
	slots []slot
}

// bound is a call's arguments bound to its callee's slots.
type bound struct {
	// args holds the argument given for each slot, nil where none is.
	args []lang.Expr
	// rest holds the positional arguments after the first one that a
	// variadic slot takes.
	rest []lang.Expr
}

// bindError is a binding mistake: a message and where it is, with the
// node it underlines (nil: none).
type bindError struct {
	pos  lang.Pos
	node lang.Node
	msg  string
}

// bindCall binds the arguments of call (nil: a callee named without
// parentheses, such as an initializer) to f's slots. at is the call as
// written, where a missing argument is reported. It returns the binding
// and the mistakes found, in the order of the arguments.
func bindCall(f callee, call *lang.CallExpr, at lang.Node) (bound, []bindError) {
	b := bound{args: make([]lang.Expr, len(f.slots))}
	if call == nil {
		call = &lang.CallExpr{}
	}
	var errs []bindError
	next := 0 // the slot the next positional argument binds to
	for _, a := range call.Args {
		for next < len(f.slots) && f.slots[next].keyword {
			next++
		}
		if next == len(f.slots) {
			errs = append(errs, bindError{a.Position(), a, f.tooMany()})
			break
		}
		if b.args[next] == nil {
			b.args[next] = a
		} else {
			b.rest = append(b.rest, a)
		}
		if !f.slots[next].variadic {
			next++
		}
	}
	unknown := false
	for _, kw := range call.Kwargs {
		k := kw.Name.Name
		i := f.slotIndex(k)
		switch {
		case i < 0:
			errs = append(errs, bindError{kw.Name.Pos, nil, noArgument(f.name, k, f.listed(false))})
			unknown = true
		case b.args[i] != nil:
			errs = append(errs, bindError{kw.Name.Pos, nil, fmt.Sprintf("argument %s of %s given twice", k, f.name)})
		default:
			b.args[i] = kw.Value
		}
	}
	if !unknown {
		var missing []string
		for i, s := range f.slots {
			if s.required && b.args[i] == nil {
				missing = append(missing, s.name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, bindError{at.Position(), at, fmt.Sprintf("%s needs argument%s %s (%s)", f.name, plural(len(missing)), andList(missing), f.sig)})
		}
	}
	return b, errs
}

// slotIndex returns the index of the slot called name, or -1.
func (f callee) slotIndex(name string) int {
	for i, s := range f.slots {
		if s.name == name {
			return i
		}
	}
	return -1
}

// listed returns the names of the slots messages list: all but the
// hidden ones, or only the keyword-only ones.
func (f callee) listed(keywordOnly bool) []string {
	var out []string
	for _, s := range f.slots {
		if !s.hidden && (s.keyword || !keywordOnly) {
			out = append(out, s.name)
		}
	}
	return out
}

// tooMany is the message for a positional argument past the last slot
// one binds to.
func (f callee) tooMany() string {
	n := 0
	for _, s := range f.slots {
		if !s.keyword {
			n++
		}
	}
	msg := fmt.Sprintf("too many arguments to %s: it takes at most %d (%s)", f.name, n, f.sig)
	if kw := f.listed(true); len(kw) > 0 {
		msg += fmt.Sprintf("; give %s by name", andList(kw))
	}
	return msg
}

// bind binds call's arguments to f's slots (see bindCall) and reports
// the mistakes; ok is false if there were any.
func (c *checker) bind(f callee, call *lang.CallExpr, at lang.Node) (b bound, ok bool) {
	b, errs := bindCall(f, call, at)
	for _, e := range errs {
		c.errorNode(e.pos, e.node, "%s", e.msg)
	}
	return b, len(errs) == 0
}

// attrSlots are the slots of attribute arguments; keyword marks them
// keyword only.
func attrSlots(specs []ir.AttrSpec, keyword bool) []slot {
	out := make([]slot, len(specs))
	for i, s := range specs {
		out[i] = slot{name: s.Name, required: s.Required, keyword: keyword}
	}
	return out
}

// attrSignature renders a callee whose arguments are all attributes (an
// initializer, an optimizer), as the registry renders an op's.
func attrSignature(name string, specs []ir.AttrSpec) string {
	return (&ir.OpDef{Name: name, Attrs: specs}).Signature()
}

// callee is the initializer as the call binder sees it.
func (in *Initializer) callee() callee {
	return callee{name: in.Name, sig: attrSignature(in.Name, in.Args), slots: attrSlots(in.Args, false)}
}

// callee is the optimizer as the call binder sees it: its own arguments,
// then CommonArgs by keyword only. Its signature shows its own.
func (o *Optimizer) callee() callee {
	return callee{name: o.Name, sig: attrSignature(o.Name, o.Args), slots: append(attrSlots(o.Args, false), attrSlots(CommonArgs, true)...)}
}

// opCallee is the callee of a call of the registered op def: its tensor
// operands, then its attributes.
func opCallee(def *ir.OpDef) callee {
	f := callee{name: def.Name, sig: def.Signature()}
	for _, in := range def.Inputs {
		f.slots = append(f.slots, slot{name: in, required: true, variadic: def.Variadic})
	}
	f.slots = append(f.slots, attrSlots(def.Attrs, false)...)
	return f
}

// attrArgs returns the values of the attribute arguments exprs bound to
// specs (nil: not given, which takes the spec's default if it has one),
// reporting each of the wrong kind; what names the callee.
func (c *checker) attrArgs(what string, specs []ir.AttrSpec, exprs []lang.Expr) (ir.Attrs, bool) {
	attrs := ir.Attrs{}
	good := true
	for i, spec := range specs {
		e := exprs[i]
		if e == nil {
			if spec.Default != nil {
				attrs[spec.Name] = spec.Default
			}
			continue
		}
		v, err := c.attrArg(e, spec.Kind)
		if err != nil {
			c.errorNode(e.Position(), e, "argument %s of %s must be %s, got %s", spec.Name, what, spec.Kind, exprLabel(e))
			good = false
			continue
		}
		attrs[spec.Name] = v
	}
	return attrs, good
}

// linearCallee is "linear", the identity a string constant may name
// where a function takes an activation (act = "linear").
var linearCallee = callee{name: "linear", sig: "linear(x)", slots: []slot{{name: "x", required: true}}}
