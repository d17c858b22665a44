package lang

import (
	"github.com/alecthomas/participle/v2/lexer"
)

// This file converts the block expressions: if, while and for.

// ifExpr converts `if cond { … } else if cond { … } else { … }`. The else
// clauses are a flat list in the grammar; they nest here, in a loop.
func (c *converter) ifExpr(g *ifG) (Expr, bool) {
	x, ok := c.branch(g.Kw, g.Kw, g.Cond, g.Then)
	if !ok {
		return nil, false
	}
	cur := x
	for _, e := range g.Elses {
		if cur == nil {
			c.errorf(e.Kw.Pos, `"else" after the final else branch`)
			return nil, false
		}
		if e.If != nil {
			next, ok := c.branch(*e.If, *e.If, e.Cond, e.Block)
			if !ok {
				return nil, false
			}
			cur.ElseIf, cur = next, next
			continue
		}
		if e.Cond != nil || e.Block == nil {
			found := c.after(e.Kw)
			c.expected(found, `"{" or "if" after "else"`)
			return nil, false
		}
		b, ok := c.block(e.Block, ifBranch, "the else branch")
		if !ok {
			return nil, false
		}
		cur.Else, cur = b, nil
	}
	if cur != nil {
		closing := c.tokenAt(toLexPos(lastBlock(x).EndPos))
		found := c.after(closing)
		hint := "an if-expression needs a value on both sides"
		if found.Type == tokNewline && c.after(found).Value == "else" {
			hint = `write "} else {" on one line`
		}
		c.expectedHint(found, hint, `"else" and a branch after the if branch`)
		return nil, false
	}
	return x, true
}

// lastBlock returns the last branch of an if-else chain.
func lastBlock(x *IfExpr) *Block {
	for {
		switch {
		case x.Else != nil:
			return x.Else
		case x.ElseIf != nil:
			x = x.ElseIf
		default:
			return x.Then
		}
	}
}

// branch converts the condition and block after the keyword if (kw).
func (c *converter) branch(kw, at lexer.Token, cond *exprG, then *blockG) (*IfExpr, bool) {
	if cond == nil {
		c.expected(c.after(kw), `a condition after "if"`)
		return nil, false
	}
	x, ok := c.expr(cond)
	if !ok {
		return nil, false
	}
	if then == nil {
		c.expected(c.tokenAt(cond.EndPos), `"{" after the condition of if`)
		return nil, false
	}
	b, ok := c.block(then, ifBranch, "the if branch")
	if !ok {
		return nil, false
	}
	return &IfExpr{Pos: toPos(at.Pos), Cond: x, Then: b}, true
}

// whileExpr converts `while (carried) cond [limit N] { … }`.
func (c *converter) whileExpr(g *whileG) (Expr, bool) {
	if g.Carried == nil {
		c.expectedHint(c.after(g.Kw), "a while starts with its carried values, as in while (k = 0) k < 10 { k = k + 1 }",
			`"(" and the carried values after "while"`)
		return nil, false
	}
	carried, ok := c.carried(g.Carried, "while")
	if !ok {
		return nil, false
	}
	afterCarried := c.tokenAt(g.Carried.EndPos)
	if g.Cond == nil || g.Limit == nil && g.Body == nil && bareName(g.Cond) != nil && bareName(g.Cond).Value == "limit" {
		c.expected(afterCarried, "a condition after the carried values of while")
		return nil, false
	}
	w := &WhileExpr{Pos: toPos(g.Kw.Pos), Carried: carried}
	if w.Cond, ok = c.expr(g.Cond); !ok {
		return nil, false
	}
	end := g.Cond.EndPos
	if g.Limit != nil {
		if g.Max == nil {
			c.expected(c.after(*g.Limit), `the maximum number of trips after "limit"`)
			return nil, false
		}
		if w.Limit, ok = c.expr(g.Max); !ok {
			return nil, false
		}
		end = g.Max.EndPos
	}
	if g.Body == nil {
		what := `"{" to start the body of while`
		if g.Limit == nil {
			what = `"limit" or "{" after the condition of while`
		}
		c.expected(c.tokenAt(end), "%s", what)
		return nil, false
	}
	if w.Body, ok = c.block(g.Body, whileBody, "the while body"); !ok {
		return nil, false
	}
	return w, true
}

// forExpr converts `for x in xs, … [along AXIS] [reverse] [(carried)] { … }`.
func (c *converter) forExpr(g *forG) (Expr, bool) {
	if g.First == nil {
		c.expected(c.after(g.Kw), `a name after "for"`)
		return nil, false
	}
	if g.Carried == nil {
		g.Carried = c.spacedArgs(g)
	}
	f := &ForExpr{Pos: toPos(g.Kw.Pos)}
	seqs := []*seqG{g.First}
	for _, m := range g.More {
		if m.Seq == nil {
			c.expected(c.after(m.Comma), `a name after ","`)
			return nil, false
		}
		seqs = append(seqs, m.Seq)
	}
	for i, s := range seqs {
		if s.Name.Type == tokKeyword {
			after := `"for"`
			if i > 0 {
				after = `","`
			}
			c.expected(s.Name, "a name after %s", after)
			return nil, false
		}
		if s.In == nil {
			c.expected(c.after(s.Name), `"in" after %s in the for header`, s.Name.Value)
			return nil, false
		}
		x, ok := c.operand(s.Seq, *s.In)
		if !ok {
			return nil, false
		}
		f.Seqs = append(f.Seqs, &ForSeq{Pos: toPos(s.Name.Pos), Name: ident(s.Name), Seq: x})
	}
	end := seqs[len(seqs)-1].Seq.EndPos
	if g.Along != nil {
		if g.Axis == nil {
			c.expected(c.after(*g.Along), `an axis after "along"`)
			return nil, false
		}
		var ok bool
		if f.Axis, ok = c.expr(g.Axis); !ok {
			return nil, false
		}
		end = g.Axis.EndPos
	}
	if g.Reverse != nil {
		f.Reverse = true
		end = c.after(*g.Reverse).Pos
	}
	if g.Carried != nil {
		var ok bool
		if f.Carried, ok = c.carried(g.Carried, "for"); !ok {
			return nil, false
		}
		end = g.Carried.EndPos
	}
	if g.Body == nil {
		c.expected(c.tokenAt(end), `"{" to start the body of for`)
		return nil, false
	}
	var ok bool
	if f.Body, ok = c.block(g.Body, forBody, "the for body"); !ok {
		return nil, false
	}
	return f, true
}

// spacedArgs finds carried values that the grammar took for the arguments
// of a call: in `for x in xs (h = h0)`, the parenthesized group after the
// last sequence (or axis) is the carried values when a space separates it
// from the name before it. A call's "(" follows its name directly. It
// detaches and returns the group, or returns nil.
func (c *converter) spacedArgs(g *forG) *argsG {
	var last *exprG
	switch {
	case g.Reverse != nil:
		return nil
	case g.Along != nil:
		last = g.Axis
	case len(g.More) > 0:
		if s := g.More[len(g.More)-1].Seq; s != nil {
			last = s.Seq
		}
	default:
		last = g.First.Seq
	}
	if last == nil {
		return nil
	}
	a := lastOperand(last.Left, last.Ops)
	if a == nil {
		return nil
	}
	cm := lastOperand(a.Left, a.Ops)
	if cm == nil {
		return nil
	}
	s := lastOperand(cm.Left, cm.Ops)
	if s == nil {
		return nil
	}
	t := lastOperand(s.Left, s.Ops)
	if t == nil {
		return nil
	}
	u := lastOperand(t.Left, t.Ops)
	if u == nil || u.X == nil || u.X.Name == nil || u.X.Args == nil {
		return nil
	}
	p := u.X
	if p.Args.Open.Pos.Offset == p.Name.Pos.Offset+len(p.Name.Value) {
		return nil // xs(…) is a call
	}
	args := p.Args
	p.Args = nil
	return args
}

// carried converts the carried values `(name = init, …)` of a while or a
// for (what).
func (c *converter) carried(g *argsG, what string) ([]*Carried, bool) {
	var out []*Carried
	seen := map[string]Pos{}
	afterItem := false
	for _, it := range g.Items {
		if it.Comma != nil {
			if !afterItem {
				c.expected(*it.Comma, `a carried value (name = initial value) or ")" in the carried values of %s`, what)
				return nil, false
			}
			afterItem = false
			continue
		}
		if afterItem {
			c.expected(c.tokenAt(it.Pos), `"," or ")" in the carried values of %s`, what)
			return nil, false
		}
		afterItem = true
		first := c.tokenAt(it.Pos)
		name := bareName(it.Value)
		if name == nil && (first.Type != tokIdent || it.Eq != nil) {
			c.expected(first, `a carried value (name = initial value) in the carried values of %s`, what)
			return nil, false
		}
		if name == nil || it.Eq == nil { // a name alone, or a name and more, such as k < 3
			hint := ""
			if what == "while" && len(out) == 0 {
				hint = "a while starts with its carried values, then its condition, as in while (k = 0) k < 10 { k = k + 1 }"
			}
			c.expectedHint(c.after(first), hint, `"=" and the initial value of %s in the carried values of %s`, first.Value, what)
			return nil, false
		}
		init, ok := c.operand(it.KwVal, *it.Eq)
		if !ok {
			return nil, false
		}
		if at, dup := seen[name.Value]; dup {
			c.errorf(name.Pos, "carried value %s repeated (first at line %d)", name.Value, at.Line)
			return nil, false
		}
		seen[name.Value] = toPos(name.Pos)
		out = append(out, &Carried{Pos: toPos(name.Pos), Name: ident(*name), Init: init})
	}
	if g.Close == nil {
		if afterItem {
			c.expected(c.tokenAt(g.EndPos), `"," or ")" in the carried values of %s`, what)
		} else {
			c.expected(c.tokenAt(g.EndPos), `a carried value (name = initial value) or ")" in the carried values of %s`, what)
		}
		return nil, false
	}
	if len(out) == 0 {
		c.expected(*g.Close, `a carried value (name = initial value) in the carried values of %s`, what)
		return nil, false
	}
	return out, true
}
