package lang

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file converts blocks (`{ statements }`) and the statements in them,
// for every kind of block: model and function bodies, if branches, while
// and for bodies. One conversion serves them all; blockKind says which
// statements are legal where.

// blockKind is the kind of block a statement is in.
type blockKind int

const (
	modelBody blockKind = iota
	funcBody
	ifBranch
	whileBody
	forBody
)

// nested reports whether k is the block of an if, while or for.
func (k blockKind) nested() bool { return k >= ifBranch }

// inside names a nested block for messages: "inside an if branch".
func (k blockKind) inside() string {
	switch k {
	case ifBranch:
		return "inside an if branch"
	case whileBody:
		return "inside a while body"
	}
	return "inside a for body"
}

// statements lists what may appear in a block of kind k, for the message
// about a line that is no statement.
func (k blockKind) statements() string {
	switch k {
	case modelBody:
		return "a statement (input, param, output, train or name = expression)"
	case funcBody:
		return "a statement (param, const, return or name = expression)"
	case ifBranch:
		return "a statement (name = expression) or the value of the branch"
	case whileBody:
		return "a statement (name = expression)"
	}
	return "a statement (name = expression) or yield"
}

// line is one converted statement: a declaration, the value line of an if
// branch, or a yield.
type line struct {
	decl   Decl
	result []Expr
	yield  *YieldStmt
	pos    Pos
}

// block converts g, a block of kind k; what names it in the message about
// a missing "}" ("model M", "function f", "the if branch"). The Block
// holds every statement that converted; ok is false when anything was
// reported. EndPos is the closing brace, or the token found in its place.
func (c *converter) block(g *blockG, k blockKind, what string) (*Block, bool) {
	b := &Block{Pos: toPos(g.Open.Pos)}
	ok := true
	var tail *line // a value line or yield, which must be the last line
	for _, s := range g.Stmts {
		l, good := c.stmt(s, k)
		if !good {
			c.dropped++
			ok = false
			continue
		}
		if tail != nil {
			ok = false
			switch {
			case tail.yield != nil && l.yield != nil:
				c.errorf(toLexPos(l.pos), "a for body has one yield, as its last line (another is at line %d)", tail.pos.Line)
				continue
			case tail.yield != nil:
				c.errorf(toLexPos(tail.pos), "yield must be the last line of a for body")
			default:
				c.errorf(toLexPos(tail.pos), "the value of an if branch must be its last line")
			}
			tail = nil
		}
		if l.decl != nil {
			b.Stmts = append(b.Stmts, l.decl)
		} else {
			tail = &l
		}
	}
	if tail != nil {
		b.Result = tail.result
		b.Yield = tail.yield
	}
	if g.Close == nil {
		found := c.tokenAt(g.EndPos)
		c.expected(found, `"}" to close %s`, what)
		b.EndPos = toPos(found.Pos)
		return b, false
	}
	b.EndPos = toPos(g.Close.Pos)
	if k == ifBranch && b.Result == nil && ok {
		c.expected(*g.Close, "the value of the if branch as its last line")
		return b, false
	}
	return b, ok
}

// toLexPos converts an AST position back for errorf.
func toLexPos(p Pos) lexer.Position {
	return lexer.Position{Filename: p.File, Offset: p.Offset, Line: p.Line, Column: p.Col}
}

// stmt converts one statement of a block of kind k; it returns false
// after reporting an error.
func (c *converter) stmt(g *stmtG, k blockKind) (line, bool) {
	var (
		l    line
		ok   bool
		rest = "an operator or end of statement" // what may follow the statement's last part
	)
	switch {
	case g.Input != nil:
		l.decl, ok = c.input(g.Input)
		rest = "end of statement"
	case g.Param != nil:
		l.decl, ok = c.param(g.Param)
		if g.Param.Eq == nil {
			rest = `"=" or end of statement`
		}
	case g.Output != nil:
		l.decl, ok = c.output(g.Output)
		rest = `"," or end of statement`
	case g.Train != nil:
		l.decl, ok = c.train(g.Train)
		rest = "end of statement"
	case g.Const != nil:
		l.decl, ok = c.constDecl(g.Const)
	case g.Return != nil:
		l.decl, ok = c.returnStmt(g.Return)
	case g.Yield != nil:
		l.yield, ok = c.yieldStmt(g.Yield)
	case g.Simple != nil:
		l, ok = c.simple(g.Simple, k)
	default:
		if len(g.Bad) > 0 {
			c.expected(g.Bad[0], "%s", k.statements())
		}
		return l, false
	}
	if ok {
		ok = c.placeStmt(g, k)
	}
	if !ok {
		return l, false
	}
	if len(g.Rest) > 0 {
		hint := ""
		if g.Input != nil && g.Rest[0].Type == tokPunct && g.Rest[0].Value == "=" {
			hint = "an input has no initializer; declare a param to give one"
		}
		c.expectedHint(g.Rest[0], hint, "%s", rest)
		return l, false
	}
	switch {
	case l.decl != nil:
		l.pos = l.decl.Position()
	case l.yield != nil:
		l.pos = l.yield.Pos
	default:
		l.pos = l.result[0].Position()
	}
	return l, true
}

// placeStmt reports a statement that cannot appear in a block of kind k:
// input, output and train only at the top level of a model, param and
// const at the top level of a model or function, return at the top level
// of a function, yield only in a for body.
func (c *converter) placeStmt(g *stmtG, k blockKind) bool {
	var kw lexer.Token
	switch {
	case g.Input != nil:
		kw = g.Input.Kw
	case g.Output != nil:
		kw = g.Output.Kw
	case g.Train != nil:
		kw = g.Train.Kw
	case g.Param != nil && k.nested():
		c.errorf(g.Param.Kw.Pos, "param declarations belong at the top level of a model or function, not %s", k.inside())
		return false
	case g.Const != nil && k.nested():
		c.errorf(g.Const.Kw.Pos, "const declarations belong at the top level of a model or function, not %s", k.inside())
		return false
	case g.Return != nil && (k == modelBody || k.nested() && !c.inFunc):
		c.errorf(g.Return.Kw.Pos, "return outside a function: a model names its results with output")
		return false
	case g.Return != nil && k.nested():
		c.errorf(g.Return.Kw.Pos, "return belongs at the top level of a function, not %s", k.inside())
		return false
	case g.Yield != nil && k != forBody:
		switch k {
		case ifBranch:
			c.errorf(g.Yield.Kw.Pos, "yield outside a for body (the value of an if branch is its last line, without yield)")
		case whileBody:
			c.errorf(g.Yield.Kw.Pos, "yield outside a for body (the results of a while are its carried values)")
		default:
			c.errorf(g.Yield.Kw.Pos, "yield outside a for body")
		}
		return false
	default:
		return true
	}
	what := "statements"
	if kw.Value == "input" {
		what = "declarations"
	}
	switch {
	case k == modelBody:
		return true
	case k.nested():
		c.errorf(kw.Pos, "%s %s belong at the top level of a model, not %s", kw.Value, what, k.inside())
		return false
	}
	hint := "a function takes its tensors as arguments"
	if kw.Value != "input" {
		hint = "a function returns its result with return; the model that calls it declares outputs and training"
	}
	c.errorf(kw.Pos, "%s is not allowed in a function body (%s)", kw.Value, hint)
	return false
}

func (c *converter) yieldStmt(g *yieldG) (*YieldStmt, bool) {
	if g.Values == nil {
		c.expected(c.after(g.Kw), `the values of a step after "yield"`)
		return nil, false
	}
	values, ok := c.exprList(g.Values)
	if !ok {
		return nil, false
	}
	return &YieldStmt{Pos: toPos(g.Kw.Pos), Values: values}, true
}

// exprList converts one or more comma-separated expressions.
func (c *converter) exprList(g *exprListG) ([]Expr, bool) {
	x, ok := c.expr(g.First)
	if !ok {
		return nil, false
	}
	out := []Expr{x}
	for _, m := range g.More {
		x, ok := c.operand(m.X, m.Comma)
		if !ok {
			return nil, false
		}
		out = append(out, x)
	}
	return out, true
}

// bareName returns the name token when g is a name alone, else nil.
func bareName(g *exprG) *lexer.Token {
	if g == nil || len(g.Ops) > 0 || len(g.Left.Ops) > 0 || len(g.Left.Left.Ops) > 0 ||
		len(g.Left.Left.Left.Ops) > 0 || len(g.Left.Left.Left.Left.Ops) > 0 {
		return nil
	}
	u := g.Left.Left.Left.Left.Left
	if len(u.Signs) > 0 || u.X == nil || u.X.Name == nil || u.X.Args != nil {
		return nil
	}
	return u.X.Name
}

// simple converts an assignment `a, b = expr` or an expression line, which
// only an if branch may hold (as its value).
func (c *converter) simple(g *simpleG, k blockKind) (line, bool) {
	items := append([]*exprG{g.Left.First}, make([]*exprG, 0, len(g.Left.More))...)
	for _, m := range g.Left.More {
		items = append(items, m.X)
	}
	if g.Eq == nil {
		return c.valueLine(g, items, k)
	}
	d := &AssignStmt{}
	for i, it := range items {
		name := bareName(it)
		if name == nil {
			c.notTarget(g, i, k)
			return line{}, false
		}
		d.Names = append(d.Names, ident(*name))
	}
	d.Pos, d.Name = d.Names[0].Pos, d.Names[0]
	if len(d.Names) == 1 {
		d.Names = nil
	}
	value, ok := c.operand(g.Value, *g.Eq)
	if !ok {
		return line{}, false
	}
	d.Value = value
	return line{decl: d}, true
}

// notTarget reports the target i of an assignment, which is not a name.
func (c *converter) notTarget(g *simpleG, i int, k blockKind) {
	if i > 0 {
		m := g.Left.More[i-1]
		if m.X == nil {
			c.expected(c.after(m.Comma), `a name after ","`)
		} else {
			c.expected(c.tokenAt(m.X.Pos), `a name after ","`)
		}
		return
	}
	first := c.tokenAt(g.Left.First.Pos)
	if first.Type == tokIdent {
		c.expected(c.after(first), `"=" after %s`, first.Value)
		return
	}
	c.expected(first, "%s", k.statements())
}

// valueLine converts a line of expressions without "=": the value of an
// if branch. Elsewhere it is reported, as the assignment it most likely
// was meant to be.
func (c *converter) valueLine(g *simpleG, items []*exprG, k blockKind) (line, bool) {
	first := c.tokenAt(g.Left.First.Pos)
	switch k {
	case ifBranch:
		values, ok := c.exprList(g.Left)
		return line{result: values}, ok
	case whileBody:
		c.errorf(first.Pos, "a while body has no value line: its results are its carried values (assign them, as in k = k + 1)")
		return line{}, false
	case forBody:
		c.errorf(first.Pos, "a for body gives the values of a step with yield (yield h), not with a value line")
		return line{}, false
	}
	if first.Type != tokIdent {
		c.expected(first, "%s", k.statements())
		return line{}, false
	}
	var names []string
	for _, it := range items {
		if n := bareName(it); n != nil {
			names = append(names, n.Value)
		} else {
			names = nil
			break
		}
	}
	if len(names) < 2 {
		found := c.after(first)
		hint := ""
		if found.Value == ":" && found.Type == tokPunct {
			hint = `declare an input with "input ` + first.Value + `: type", a parameter with "param ` + first.Value + `: type"`
		}
		c.expectedHint(found, hint, `"=" after %s`, first.Value)
		return line{}, false
	}
	c.expected(c.tokenAt(g.Left.More[len(g.Left.More)-1].X.EndPos), `"=" after %s`, strings.Join(names, ", "))
	return line{}, false
}
