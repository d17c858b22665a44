package lang

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file turns the concrete syntax tree of grammar.go into the AST of
// ast.go, checking on the way everything the permissive grammar let
// through. Each check names what was expected and the token found instead.
//
// A statement stops at its first error and is left out of the AST, so a
// partial File holds only well-formed statements. Errors in different
// statements are all reported.

// converter holds the state of one conversion.
type converter struct {
	tokens      []lexer.Token // the parsed token stream, ending with EOF
	openComment bool          // the lexer found an unterminated block comment
	errs        ErrorList
	dropped     int  // models and statements left out because of errors
	inFunc      bool // converting the body of a function
}

// tokenAt returns the token that starts at p (or the next one after it).
func (c *converter) tokenAt(p lexer.Position) lexer.Token {
	i := sort.Search(len(c.tokens), func(i int) bool { return c.tokens[i].Pos.Offset >= p.Offset })
	if i >= len(c.tokens) {
		i = len(c.tokens) - 1
	}
	return c.tokens[i]
}

// after returns the token that follows t.
func (c *converter) after(t lexer.Token) lexer.Token {
	i := sort.Search(len(c.tokens), func(i int) bool { return c.tokens[i].Pos.Offset > t.Pos.Offset })
	if i >= len(c.tokens) {
		i = len(c.tokens) - 1
	}
	return c.tokens[i]
}

// expected reports that what was expected is missing at found.
// Tokens the lexer already complained about are not reported again.
func (c *converter) expected(found lexer.Token, what string, args ...any) {
	c.expectedHint(found, "", what, args...)
}

// expectedHint is expected with a hint appended in parentheses.
func (c *converter) expectedHint(found lexer.Token, hint, what string, args ...any) {
	if found.Type == tokInvalid || found.Type == lexer.EOF && c.openComment {
		return
	}
	msg := fmt.Sprintf("expected %s, found %s", fmt.Sprintf(what, args...), describe(found))
	if hint != "" {
		msg += " (" + hint + ")"
	}
	c.errs.Add(toPos(found.Pos), "%s", msg)
}

func (c *converter) errorf(pos lexer.Position, format string, args ...any) {
	c.errs.Add(toPos(pos), format, args...)
}

// describe names a token for an error message.
func describe(t lexer.Token) string {
	switch t.Type {
	case lexer.EOF:
		return "end of file"
	case tokNewline:
		return "newline"
	case tokKeyword:
		return fmt.Sprintf("keyword %q", t.Value)
	case tokString:
		v := t.Value
		if len(v) > 24 {
			v = v[:20] + `..."`
		}
		return "string " + v
	}
	return strconv.Quote(t.Value)
}

func ident(t lexer.Token) *Ident {
	return &Ident{Pos: toPos(t.Pos), Name: t.Value}
}

// file converts the whole file.
func (c *converter) file(name string, g *fileG) *File {
	f := &File{Pos: Pos{File: name, Line: 1, Col: 1}, Name: name}
	for _, item := range g.Items {
		switch {
		case item.Model != nil:
			if m := c.model(item.Model); m != nil {
				f.Models = append(f.Models, m)
			} else {
				c.dropped++
			}
		case item.Func != nil:
			if fn := c.funcDecl(item.Func); fn != nil {
				f.Funcs = append(f.Funcs, fn)
			} else {
				c.dropped++
			}
		case item.Import != nil || item.Const != nil:
			if d := c.topDecl(item); d != nil {
				switch d := d.(type) {
				case *ImportDecl:
					f.Imports = append(f.Imports, d)
				case *ConstDecl:
					f.Consts = append(f.Consts, d)
				}
			} else {
				c.dropped++
			}
		case len(item.Junk) > 0:
			c.expected(item.Junk[0], `"model", "fn", "import" or "const"`)
		}
	}
	return f
}

// topDecl converts a file-level import or constant; it returns nil after
// reporting an error.
func (c *converter) topDecl(item *topG) Node {
	var (
		d    Node
		ok   bool
		rest string
	)
	if item.Import != nil {
		d, ok = c.importDecl(item.Import)
		rest = "end of line"
	} else {
		d, ok = c.constDecl(item.Const)
		rest = "an operator or end of line"
	}
	if !ok {
		return nil
	}
	if len(item.Rest) > 0 {
		c.expected(item.Rest[0], "%s", rest)
		return nil
	}
	return d
}

func (c *converter) importDecl(g *importG) (*ImportDecl, bool) {
	if g.Path == nil {
		c.expectedHint(c.after(g.Kw), `import "layers.flow"`, `a quoted file name after "import"`)
		return nil, false
	}
	s, err := strconv.Unquote(g.Path.Value)
	if err != nil { // the lexer checked; this is a safety net
		c.errorf(g.Path.Pos, "invalid string literal %s", g.Path.Value)
		return nil, false
	}
	if s == "" {
		c.errorf(g.Path.Pos, "empty import path")
		return nil, false
	}
	return &ImportDecl{Pos: toPos(g.Kw.Pos), Path: &StringLit{Pos: toPos(g.Path.Pos), Value: s}}, true
}

func (c *converter) constDecl(g *constG) (*ConstDecl, bool) {
	name, ok := c.declName(g.Kw, g.Name)
	if !ok {
		return nil, false
	}
	if g.Eq == nil {
		c.expected(c.after(*g.Name), `"=" and a value after const %s`, g.Name.Value)
		return nil, false
	}
	value, ok := c.operand(g.Value, *g.Eq)
	if !ok {
		return nil, false
	}
	return &ConstDecl{Pos: toPos(g.Kw.Pos), Name: name, Value: value}, true
}

// funcDecl converts a function declaration; it returns nil after reporting
// an error.
func (c *converter) funcDecl(g *funcG) *FuncDecl {
	if g.Name == nil || g.Name.Type == tokKeyword {
		found := c.after(g.Kw)
		if g.Name != nil {
			found = *g.Name
		}
		c.expected(found, `a function name after "fn"`)
		return nil
	}
	fname := g.Name.Value
	if g.Open == nil {
		c.expected(c.after(*g.Name), `"(" and the parameters of %s`, fname)
		return nil
	}
	fn := &FuncDecl{Pos: toPos(g.Kw.Pos), Name: ident(*g.Name)}
	prev := *g.Open // "(", a parameter's last token or a comma
	afterParam := false
	for _, p := range g.Params {
		if p.Comma != nil {
			if !afterParam {
				c.expected(*p.Comma, `a parameter name or ")" in the parameters of %s`, fname)
				return nil
			}
			afterParam = false
			prev = *p.Comma
			continue
		}
		if afterParam {
			c.expected(*p.Name, `"," or ")" in the parameters of %s`, fname)
			return nil
		}
		afterParam = true
		fp, ok := c.funcParam(fname, p)
		if !ok {
			return nil
		}
		fn.Params = append(fn.Params, fp)
		prev = *p.Name
	}
	if g.Close == nil {
		found := c.after(prev)
		if n := len(g.Params); n > 0 {
			found = c.tokenAt(g.Params[n-1].EndPos)
		}
		if afterParam {
			c.expected(found, `"," or ")" in the parameters of %s`, fname)
		} else {
			c.expected(found, `a parameter name or ")" in the parameters of %s`, fname)
		}
		return nil
	}
	if g.Arrow != nil {
		if g.Result == nil {
			c.expected(c.after(*g.Arrow), `a result type after "->"`)
			return nil
		}
		t, ok := c.typeExpr(g.Result)
		if !ok {
			return nil
		}
		fn.Result = t
	}
	if g.Body == nil {
		after := *g.Close
		if g.Arrow != nil {
			after = c.tokenAt(g.Result.EndPos)
			c.expected(after, `"{" to start the body of %s`, fname)
			return nil
		}
		found := c.after(after)
		hint := ""
		if found.Type == tokPunct && found.Value == ":" {
			hint = `declare the result type with "->", as in fn f(x: f32[N]) -> f32[N]`
		}
		c.expectedHint(found, hint, `"->" or "{" after the parameters of %s`, fname)
		return nil
	}
	c.inFunc = true
	body, ok := c.block(g.Body, funcBody, "function "+fname)
	c.inFunc = false
	fn.Body, fn.EndPos = body.Stmts, body.EndPos
	if !ok {
		return nil
	}
	return fn
}

// funcParam converts one parameter of function fname.
func (c *converter) funcParam(fname string, g *fnParamG) (*FuncParam, bool) {
	if g.Name.Type == tokKeyword {
		c.expected(*g.Name, `a parameter name or ")" in the parameters of %s`, fname)
		return nil, false
	}
	p := &FuncParam{Pos: toPos(g.Name.Pos), Name: ident(*g.Name)}
	if g.Colon != nil {
		if g.Type == nil {
			c.expected(c.after(*g.Colon), `a type after ":"`)
			return nil, false
		}
		t, ok := c.typeExpr(g.Type)
		if !ok {
			return nil, false
		}
		p.Type = t
	}
	if g.Eq != nil {
		v, ok := c.operand(g.Default, *g.Eq)
		if !ok {
			return nil, false
		}
		p.Default = v
	}
	return p, true
}

func (c *converter) model(g *modelG) *Model {
	if g.Name == nil || g.Name.Type == tokKeyword {
		found := c.after(g.Kw)
		if g.Name != nil {
			found = *g.Name
		}
		c.expected(found, `a model name after "model"`)
		return nil
	}
	if g.Body == nil {
		c.expected(c.after(*g.Name), `"{" after the model name`)
		return nil
	}
	m := &Model{Pos: toPos(g.Kw.Pos), Name: ident(*g.Name)}
	body, _ := c.block(g.Body, modelBody, "model "+g.Name.Value)
	m.Decls, m.EndPos = body.Stmts, body.EndPos
	return m
}

// declName checks the name after input or param.
func (c *converter) declName(kw lexer.Token, name *lexer.Token) (*Ident, bool) {
	if name == nil || name.Type == tokKeyword {
		found := c.after(kw)
		if name != nil {
			found = *name
		}
		c.expected(found, "a name after %q", kw.Value)
		return nil, false
	}
	return ident(*name), true
}

// declType checks `: type` after the name of an input or param.
func (c *converter) declType(kw, name lexer.Token, colon *lexer.Token, g *typeG) (*TypeExpr, bool) {
	if colon == nil {
		c.expected(c.after(name), `":" and a type after %s %s`, kw.Value, name.Value)
		return nil, false
	}
	if g == nil {
		c.expected(c.after(*colon), `a type after ":"`)
		return nil, false
	}
	return c.typeExpr(g)
}

func (c *converter) input(g *inputG) (Decl, bool) {
	name, ok := c.declName(g.Kw, g.Name)
	if !ok {
		return nil, false
	}
	typ, ok := c.declType(g.Kw, *g.Name, g.Colon, g.Type)
	if !ok {
		return nil, false
	}
	return &InputDecl{Pos: toPos(g.Kw.Pos), Name: name, Type: typ}, true
}

func (c *converter) param(g *paramG) (Decl, bool) {
	name, ok := c.declName(g.Kw, g.Name)
	if !ok {
		return nil, false
	}
	typ, ok := c.declType(g.Kw, *g.Name, g.Colon, g.Type)
	if !ok {
		return nil, false
	}
	d := &ParamDecl{Pos: toPos(g.Kw.Pos), Name: name, Type: typ}
	if g.Eq != nil {
		if d.Init, ok = c.operand(g.Init, *g.Eq); !ok {
			return nil, false
		}
	}
	return d, true
}

func (c *converter) returnStmt(g *returnG) (Decl, bool) {
	v, ok := c.operand(g.Value, g.Kw)
	if !ok {
		return nil, false
	}
	return &ReturnStmt{Pos: toPos(g.Kw.Pos), Value: v}, true
}

func (c *converter) output(g *outputG) (Decl, bool) {
	d := &OutputStmt{Pos: toPos(g.Kw.Pos)}
	prev := g.Kw // the keyword, a name or a comma
	for _, t := range g.Items {
		isName := t.Type == tokIdent
		switch {
		case prev.Type == tokIdent && isName, prev.Type == tokIdent && t.Type == tokKeyword:
			c.expected(t, `"," or end of statement`)
			return nil, false
		case prev.Type != tokIdent && !isName:
			c.expected(t, "a name after %q", prev.Value)
			return nil, false
		}
		if isName {
			d.Names = append(d.Names, ident(t))
		}
		prev = t
	}
	if prev.Type != tokIdent {
		c.expected(c.after(prev), "a name after %q", prev.Value)
		return nil, false
	}
	return d, true
}

func (c *converter) train(g *trainG) (Decl, bool) {
	if g.Loss == nil {
		c.expected(c.after(g.Kw), `a loss expression after "train"`)
		return nil, false
	}
	loss, ok := c.expr(g.Loss)
	if !ok {
		return nil, false
	}
	if g.With == nil {
		c.expected(c.tokenAt(g.Loss.EndPos), `"with" after the loss in a train statement`)
		return nil, false
	}
	if g.Optimizer == nil {
		c.expected(c.after(*g.With), `an optimizer call such as sgd(lr = 0.01) after "with"`)
		return nil, false
	}
	opt, ok := c.expr(g.Optimizer)
	if !ok {
		return nil, false
	}
	call, isCall := opt.(*CallExpr)
	if !isCall {
		c.expected(c.tokenAt(g.Optimizer.Pos), `an optimizer call such as sgd(lr = 0.01) after "with"`)
		return nil, false
	}
	return &TrainStmt{Pos: toPos(g.Kw.Pos), Loss: loss, Optimizer: call}, true
}

func (c *converter) typeExpr(g *typeG) (*TypeExpr, bool) {
	t := &TypeExpr{Pos: toPos(g.DType.Pos), DType: ident(g.DType)}
	if g.Shape == nil {
		return t, true
	}
	t.Dims = []*DimExpr{} // f32[] is a rank-0 shape, distinct from no shape
	prev := g.Shape.Open  // "[", a dimension or a comma
	for _, tok := range g.Shape.Items {
		isComma := tok.Value == ","
		switch {
		case prev.Value != "," && prev.Value != "[" && !isComma:
			c.expected(tok, `"," or "]" in the shape`)
			return nil, false
		case (prev.Value == "," || prev.Value == "[") && isComma:
			c.expected(tok, "a dimension (an integer or a name) in the shape")
			return nil, false
		case tok.Type == tokInt:
			n, err := strconv.ParseInt(tok.Value, 10, 64)
			if err != nil {
				c.errorf(tok.Pos, "dimension %s is too large", tok.Value)
				return nil, false
			}
			t.Dims = append(t.Dims, &DimExpr{Pos: toPos(tok.Pos), Size: n})
		case tok.Type == tokIdent:
			t.Dims = append(t.Dims, &DimExpr{Pos: toPos(tok.Pos), Name: tok.Value})
		}
		prev = tok
	}
	if g.Shape.Close == nil {
		found := c.tokenAt(g.Shape.EndPos)
		if prev.Value == "," || prev.Value == "[" {
			c.expected(found, "a dimension (an integer or a name) in the shape")
		} else {
			c.expected(found, `"," or "]" in the shape`)
		}
		return nil, false
	}
	if prev.Value == "," {
		c.expected(*g.Shape.Close, "a dimension (an integer or a name) in the shape")
		return nil, false
	}
	return t, true
}

// operand converts the expression that must follow the token op.
func (c *converter) operand(g *exprG, op lexer.Token) (Expr, bool) {
	if g == nil {
		c.expected(c.after(op), "an expression after %q", op.Value)
		return nil, false
	}
	return c.expr(g)
}

func (c *converter) expr(g *exprG) (Expr, bool) {
	return level(c, g.Left, g.Ops, c.and, true)
}

func (c *converter) and(g *andG) (Expr, bool) {
	return level(c, g.Left, g.Ops, c.cmp, true)
}

func (c *converter) cmp(g *cmpG) (Expr, bool) {
	return level(c, g.Left, g.Ops, c.sum, false)
}

func (c *converter) sum(g *sumG) (Expr, bool) {
	return level(c, g.Left, g.Ops, c.term, true)
}

func (c *converter) term(g *termG) (Expr, bool) {
	return level(c, g.Left, g.Ops, c.unary, true)
}

// levelOp is an operator of a precedence level with its right operand,
// a *T.
type levelOp[T any] interface {
	parts() (op lexer.Token, right *T)
}

func (o *orOpG) parts() (lexer.Token, *andG)   { return o.Op, o.Right }
func (o *andOpG) parts() (lexer.Token, *cmpG)  { return o.Op, o.Right }
func (o *cmpOpG) parts() (lexer.Token, *sumG)  { return o.Op, o.Right }
func (o *addOpG) parts() (lexer.Token, *termG) { return o.Op, o.Right }
func (o *mulOpG) parts() (lexer.Token, *unaryG) {
	return o.Op, o.Right
}

// level converts one precedence level: left, then each operator and its
// right operand, associating to the left. A level whose operators do not
// associate (the comparisons) reports a second operator.
func level[T any, O levelOp[T]](c *converter, left *T, ops []O, sub func(*T) (Expr, bool), associates bool) (Expr, bool) {
	x, ok := sub(left)
	if !ok {
		return nil, false
	}
	var prev lexer.Token
	for i, o := range ops {
		op, right := o.parts()
		if i > 0 && !associates {
			c.errorf(op.Pos, "comparisons do not chain: write a %s b && b %s c, not a %s b %s c", prev.Value, op.Value, prev.Value, op.Value)
			return nil, false
		}
		prev = op
		if right == nil {
			c.expected(c.after(op), "an expression after %q", op.Value)
			return nil, false
		}
		y, ok := sub(right)
		if !ok {
			return nil, false
		}
		x = &BinaryExpr{Pos: x.Position(), OpPos: toPos(op.Pos), Op: op.Value, X: x, Y: y}
	}
	return x, true
}

// lastOperand returns the rightmost operand of a precedence level.
func lastOperand[T any, O levelOp[T]](left *T, ops []O) *T {
	if n := len(ops); n > 0 {
		_, right := ops[n-1].parts()
		return right
	}
	return left
}

func (c *converter) unary(g *unaryG) (Expr, bool) {
	for _, s := range g.Signs {
		if s.Value == "+" {
			c.errorf(s.Pos, `unary "+" is not supported; write the operand alone`)
			return nil, false
		}
	}
	if g.X == nil {
		c.expected(c.after(g.Signs[len(g.Signs)-1]), "an expression after %q", g.Signs[len(g.Signs)-1].Value)
		return nil, false
	}
	x, ok := c.primary(g.X)
	if !ok {
		return nil, false
	}
	for i := len(g.Signs) - 1; i >= 0; i-- {
		x = &UnaryExpr{Pos: toPos(g.Signs[i].Pos), Op: g.Signs[i].Value, X: x}
	}
	return x, true
}

func (c *converter) primary(g *primaryG) (Expr, bool) {
	switch {
	case g.Number != nil:
		return c.number(*g.Number)
	case g.String != nil:
		s, err := strconv.Unquote(g.String.Value)
		if err != nil { // the lexer checked; this is a safety net
			c.errorf(g.String.Pos, "invalid string literal %s", g.String.Value)
			return nil, false
		}
		return &StringLit{Pos: toPos(g.String.Pos), Value: s}, true
	case g.Name != nil:
		if g.Args == nil {
			return ident(*g.Name), true
		}
		return c.call(*g.Name, g.Args)
	case g.List != nil:
		return c.list(g.List)
	case g.Paren != nil:
		return c.paren(g.Paren)
	case g.If != nil:
		return c.ifExpr(g.If)
	case g.While != nil:
		return c.whileExpr(g.While)
	case g.For != nil:
		return c.forExpr(g.For)
	}
	return nil, false // unreachable: the grammar matched one of the above
}

func (c *converter) number(t lexer.Token) (Expr, bool) {
	n := &NumberLit{Pos: toPos(t.Pos), Text: t.Value, IsInt: t.Type == tokInt}
	if n.IsInt {
		if _, err := strconv.ParseInt(t.Value, 10, 64); err != nil {
			c.errorf(t.Pos, "integer %s does not fit in 64 bits", t.Value)
			return nil, false
		}
	}
	v, err := strconv.ParseFloat(t.Value, 64)
	if err != nil {
		c.errorf(t.Pos, "number %s is out of range", t.Value)
		return nil, false
	}
	n.Value = v
	return n, true
}

func (c *converter) call(name lexer.Token, g *argsG) (Expr, bool) {
	call := &CallExpr{Pos: toPos(name.Pos), Func: ident(name)}
	seen := map[string]bool{}
	afterArg := false
	for _, it := range g.Items {
		if it.Comma != nil {
			if !afterArg {
				c.expected(*it.Comma, `an argument or ")" in the call to %s`, name.Value)
				return nil, false
			}
			afterArg = false
			continue
		}
		if afterArg {
			c.expected(c.tokenAt(it.Pos), `"," or ")" in the call to %s`, name.Value)
			return nil, false
		}
		afterArg = true
		x, ok := c.expr(it.Value)
		if !ok {
			return nil, false
		}
		if it.Eq == nil {
			if len(call.Kwargs) > 0 {
				c.errorf(it.Pos, "positional argument after keyword argument")
				return nil, false
			}
			call.Args = append(call.Args, x)
			continue
		}
		kw, isName := x.(*Ident)
		if !isName {
			c.errorf(it.Pos, `expected a keyword argument name before "=" in the call to %s`, name.Value)
			return nil, false
		}
		value, ok := c.operand(it.KwVal, *it.Eq)
		if !ok {
			return nil, false
		}
		if seen[kw.Name] {
			c.errorf(it.Pos, "keyword argument %s repeated", kw.Name)
			return nil, false
		}
		seen[kw.Name] = true
		call.Kwargs = append(call.Kwargs, &KeywordArg{Pos: kw.Pos, Name: kw, Value: value})
	}
	if g.Close == nil {
		if afterArg {
			c.expected(c.tokenAt(g.EndPos), `"," or ")" in the call to %s`, name.Value)
		} else {
			c.expected(c.tokenAt(g.EndPos), `an argument or ")" in the call to %s`, name.Value)
		}
		return nil, false
	}
	return call, true
}

func (c *converter) list(g *listG) (Expr, bool) {
	l := &ListLit{Pos: toPos(g.Open.Pos)}
	afterElem := false
	for _, it := range g.Items {
		if it.Comma != nil {
			if !afterElem {
				c.expected(*it.Comma, `an element or "]" in the list`)
				return nil, false
			}
			afterElem = false
			continue
		}
		if afterElem {
			c.expected(c.tokenAt(it.Pos), `"," or "]" in the list`)
			return nil, false
		}
		afterElem = true
		x, ok := c.expr(it.Value)
		if !ok {
			return nil, false
		}
		l.Elems = append(l.Elems, x)
	}
	if g.Close == nil {
		if afterElem {
			c.expected(c.tokenAt(g.EndPos), `"," or "]" in the list`)
		} else {
			c.expected(c.tokenAt(g.EndPos), `an element or "]" in the list`)
		}
		return nil, false
	}
	return l, true
}

func (c *converter) paren(g *parenG) (Expr, bool) {
	x, ok := c.operand(g.X, g.Open)
	if !ok {
		return nil, false
	}
	if g.Close == nil {
		c.expected(c.tokenAt(g.EndPos), `an operator or ")"`)
		return nil, false
	}
	return &ParenExpr{Pos: toPos(g.Open.Pos), X: x}, true
}
