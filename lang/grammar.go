package lang

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// This file holds the participle grammar: a concrete syntax tree of
// unexported structs that convert.go turns into the AST of ast.go.
//
// The grammar is total: after the first token of a construct every part is
// optional, and stray tokens are captured rather than rejected, so
// participle never fails. convert.go then checks that the required parts are
// present, in order, and reports the first one missing at the token found in
// its place. That is how the messages say what was expected, at the right
// token; participle's own errors would point at the start of the enclosing
// optional group. Every repeated or alternative construct starts with a
// required token, so no rule can match the empty string.
//
// Keywords are matched by value; the lexer gives them their own token type
// so that they never match Ident.

// fileG is a whole file: imports, constants, functions and models,
// separated by newlines.
type fileG struct {
	Items []*topG `parser:"( Newline | ';' | @@ )*"`
}

// topG is a model, a function, an import or a constant (the last two
// followed by whatever is left before their terminator, which must be
// nothing), or a run of tokens outside any of them.
type topG struct {
	Model  *modelG       `parser:"  @@"`
	Func   *funcG        `parser:"| @@"`
	Import *importG      `parser:"| ( ( @@"`
	Const  *constG       `parser:"    | @@ )"`
	Rest   []lexer.Token `parser:"  @( ( ~( Newline | ';' ) )+ )? )"`
	Junk   []lexer.Token `parser:"| @( ( ~( Newline | ';' | 'model' | 'fn' ) )+ )"`
}

// importG is `import "path"`.
type importG struct {
	Kw   lexer.Token  `parser:"@'import'"`
	Path *lexer.Token `parser:"@String?"`
}

// constG is `const name = expr`.
type constG struct {
	Kw    lexer.Token  `parser:"@'const'"`
	Name  *lexer.Token `parser:"@( Ident | Keyword )?"`
	Eq    *lexer.Token `parser:"@'='?"`
	Value *exprG       `parser:"@@?"`
}

// funcG is `fn name(params) [-> type] { statements }`.
type funcG struct {
	EndPos lexer.Position
	Kw     lexer.Token  `parser:"@'fn'"`
	Name   *lexer.Token `parser:"@( Ident | Keyword )?"`
	Open   *lexer.Token `parser:"( @'('"`
	Params []*fnParamG  `parser:"  @@*"`
	Close  *lexer.Token `parser:"  @')'? )?"`
	Arrow  *lexer.Token `parser:"( @'->'"`
	Result *typeG       `parser:"  @@? )?"`
	Body   *blockG      `parser:"( @@"`
	Lost   []*stmtG     `parser:"| ( Newline | ';' | @@ )+ '}'? | '}' )?"`
}

// fnParamG is a comma or one parameter `name [: type] [= default]`.
type fnParamG struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Comma   *lexer.Token `parser:"  @','"`
	Name    *lexer.Token `parser:"| ( @( Ident | Keyword )"`
	Colon   *lexer.Token `parser:"    ( @':'"`
	Type    *typeG       `parser:"      @@? )?"`
	Eq      *lexer.Token `parser:"    ( @'='"`
	Default *exprG       `parser:"      @@? )? )"`
}

// returnG is `return expr`.
type returnG struct {
	Kw    lexer.Token `parser:"@'return'"`
	Value *exprG      `parser:"@@?"`
}

// modelG is `model Name { statements }`.
type modelG struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Kw     lexer.Token  `parser:"@'model'"`
	Name   *lexer.Token `parser:"@( Ident | Keyword )?"`
	// Without "{", the statements up to the closing brace are taken (and
	// dropped) so that one error is reported, not one per line.
	Body *blockG  `parser:"( @@"`
	Lost []*stmtG `parser:"| ( Newline | ';' | @@ )+ '}'? | '}' )?"`
}

// blockG is `{ statements }`: the body of a model, a function, an if
// branch, a while or a for. Which statements are legal where is checked
// in convert.go.
type blockG struct {
	EndPos lexer.Position
	Open   lexer.Token  `parser:"@'{'"`
	Stmts  []*stmtG     `parser:"( Newline | ';' | @@ )*"`
	Close  *lexer.Token `parser:"@'}'?"`
}

// stmtG is one statement, followed by whatever is left before its
// terminator (which must be nothing).
type stmtG struct {
	Pos    lexer.Position
	Input  *inputG       `parser:"(  @@"`
	Param  *paramG       `parser:" | @@"`
	Output *outputG      `parser:" | @@"`
	Train  *trainG       `parser:" | @@"`
	Const  *constG       `parser:" | @@"`
	Return *returnG      `parser:" | @@"`
	Yield  *yieldG       `parser:" | @@"`
	Simple *simpleG      `parser:" | @@"`
	Bad    []lexer.Token `parser:" | @( ( ~( Newline | ';' | '}' | 'model' | 'fn' ) )+ ) )"`
	Rest   []lexer.Token `parser:"@( ( ~( Newline | ';' | '}' | 'model' | 'fn' ) )+ )?"`
}

// inputG is `input name: type`.
type inputG struct {
	Kw    lexer.Token  `parser:"@'input'"`
	Name  *lexer.Token `parser:"@( Ident | Keyword )?"`
	Colon *lexer.Token `parser:"@':'?"`
	Type  *typeG       `parser:"@@?"`
}

// paramG is `param name: type [= init]`.
type paramG struct {
	Kw    lexer.Token  `parser:"@'param'"`
	Name  *lexer.Token `parser:"@( Ident | Keyword )?"`
	Colon *lexer.Token `parser:"@':'?"`
	Type  *typeG       `parser:"@@?"`
	Eq    *lexer.Token `parser:"( @'='"`
	Init  *exprG       `parser:"  @@? )?"`
}

// outputG is `output a, b`; names and commas are checked in convert.go.
type outputG struct {
	Kw    lexer.Token   `parser:"@'output'"`
	Items []lexer.Token `parser:"@( ( Ident | Keyword | ',' )+ )?"`
}

// trainG is `parser:"train loss with optimizer(args)"`.
type trainG struct {
	Kw        lexer.Token  `parser:"@'train'"`
	Loss      *exprG       `parser:"@@?"`
	With      *lexer.Token `parser:"@'with'?"`
	Optimizer *exprG       `parser:"@@?"`
}

// simpleG is an assignment `a, b = expr` or, without "=", an expression
// line (the value of an if branch). convert.go checks that the targets of
// an assignment are names.
type simpleG struct {
	Left  *exprListG   `parser:"@@"`
	Eq    *lexer.Token `parser:"( @'='"`
	Value *exprG       `parser:"  @@? )?"`
}

// yieldG is `yield e1, e2`, the per-step values of a for body.
type yieldG struct {
	Kw     lexer.Token `parser:"@'yield'"`
	Values *exprListG  `parser:"@@?"`
}

// exprListG is one or more comma-separated expressions.
type exprListG struct {
	First *exprG   `parser:"@@"`
	More  []*moreG `parser:"@@*"`
}

// moreG is a comma and the expression after it.
type moreG struct {
	Comma lexer.Token `parser:"@','"`
	X     *exprG      `parser:"@@?"`
}

// typeG is `dtype` or `dtype[dims]`.
type typeG struct {
	EndPos lexer.Position
	DType  lexer.Token `parser:"@Ident"`
	Shape  *shapeG     `parser:"@@?"`
}

// shapeG is `[dims]`; dims and commas are checked in convert.go.
type shapeG struct {
	EndPos lexer.Position
	Open   lexer.Token   `parser:"@'['"`
	Items  []lexer.Token `parser:"@( ( Int | Ident | ',' )+ )?"`
	Close  *lexer.Token  `parser:"@']'?"`
}

// exprG is the lowest precedence level: operands joined by ||. The
// levels below it, from low to high, are &&, the comparisons, + and -,
// then *, / and @.
type exprG struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Left   *andG    `parser:"@@"`
	Ops    []*orOpG `parser:"@@*"`
}

type orOpG struct {
	Op    lexer.Token `parser:"@'||'"`
	Right *andG       `parser:"@@?"`
}

// andG is comparisons joined by &&.
type andG struct {
	Left *cmpG     `parser:"@@"`
	Ops  []*andOpG `parser:"@@*"`
}

type andOpG struct {
	Op    lexer.Token `parser:"@'&&'"`
	Right *cmpG       `parser:"@@?"`
}

// cmpG is sums joined by comparison operators. Comparisons do not
// associate: convert.go reports a second operator.
type cmpG struct {
	Left *sumG     `parser:"@@"`
	Ops  []*cmpOpG `parser:"@@*"`
}

type cmpOpG struct {
	Op    lexer.Token `parser:"@( '<' | '>' | '<=' | '>=' | '==' | '!=' )"`
	Right *sumG       `parser:"@@?"`
}

// sumG is terms joined by + and -.
type sumG struct {
	Left *termG    `parser:"@@"`
	Ops  []*addOpG `parser:"@@*"`
}

type addOpG struct {
	Op    lexer.Token `parser:"@( '+' | '-' )"`
	Right *termG      `parser:"@@?"`
}

// termG is unary expressions joined by *, / and @.
type termG struct {
	Left *unaryG   `parser:"@@"`
	Ops  []*mulOpG `parser:"@@*"`
}

type mulOpG struct {
	Op    lexer.Token `parser:"@( '*' | '/' | '@' )"`
	Right *unaryG     `parser:"@@?"`
}

// unaryG is a primary expression after any number of signs (- and !). A
// "+" sign is captured only to be reported.
type unaryG struct {
	Signs []lexer.Token `parser:"( @( ( '-' | '+' | '!' )+ )"`
	X     *primaryG     `parser:"  @@? ) | @@"`
}

// primaryG is an operand.
type primaryG struct {
	Number *lexer.Token `parser:"  @( Float | Int )"`
	String *lexer.Token `parser:"| @String"`
	Name   *lexer.Token `parser:"| ( @Ident"`
	Args   *argsG       `parser:"    @@? )"`
	List   *listG       `parser:"| @@"`
	Paren  *parenG      `parser:"| @@"`
	If     *ifG         `parser:"| @@"`
	While  *whileG      `parser:"| @@"`
	For    *forG        `parser:"| @@"`
}

// ifG is `if cond { … }` and its else clauses, kept flat so that a long
// else-if chain costs no recursion.
type ifG struct {
	Kw    lexer.Token `parser:"@'if'"`
	Cond  *exprG      `parser:"@@?"`
	Then  *blockG     `parser:"@@?"`
	Elses []*elseG    `parser:"@@*"`
}

// elseG is `else if cond { … }` or `else { … }`.
type elseG struct {
	Kw    lexer.Token  `parser:"@'else'"`
	If    *lexer.Token `parser:"@'if'?"`
	Cond  *exprG       `parser:"@@?"`
	Block *blockG      `parser:"@@?"`
}

// whileG is `while (carried) cond [limit N] { … }`; limit is matched by
// value, so it stays an ordinary name elsewhere.
type whileG struct {
	Kw      lexer.Token  `parser:"@'while'"`
	Carried *argsG       `parser:"@@?"`
	Cond    *exprG       `parser:"@@?"`
	Limit   *lexer.Token `parser:"( @'limit'"`
	Max     *exprG       `parser:"  @@? )?"`
	Body    *blockG      `parser:"@@?"`
}

// forG is `for x in xs, … [along AXIS] [reverse] [(carried)] { … }`;
// along and reverse are matched by value, like limit.
type forG struct {
	Kw      lexer.Token  `parser:"@'for'"`
	First   *seqG        `parser:"@@?"`
	More    []*moreSeqG  `parser:"@@*"`
	Along   *lexer.Token `parser:"( @'along'"`
	Axis    *exprG       `parser:"  @@? )?"`
	Reverse *lexer.Token `parser:"@'reverse'?"`
	Carried *argsG       `parser:"@@?"`
	Body    *blockG      `parser:"@@?"`
}

// seqG is `name in expr` in a for header.
type seqG struct {
	Name lexer.Token  `parser:"@( Ident | Keyword )"`
	In   *lexer.Token `parser:"@'in'?"`
	Seq  *exprG       `parser:"@@?"`
}

// moreSeqG is a comma and the sequence after it.
type moreSeqG struct {
	Comma lexer.Token `parser:"@','"`
	Seq   *seqG       `parser:"@@?"`
}

// argsG is the argument list of a call, or the carried values of a
// while or a for.
type argsG struct {
	EndPos lexer.Position
	Open   lexer.Token  `parser:"@'('"`
	Items  []*argItemG  `parser:"@@*"`
	Close  *lexer.Token `parser:"@')'?"`
}

// argItemG is a comma, a positional argument or `name = value`.
type argItemG struct {
	Pos   lexer.Position
	Comma *lexer.Token `parser:"  @','"`
	Value *exprG       `parser:"| ( @@"`
	Eq    *lexer.Token `parser:"    ( @'='"`
	KwVal *exprG       `parser:"      @@? )? )"`
}

// listG is `[elems]`.
type listG struct {
	EndPos lexer.Position
	Open   lexer.Token  `parser:"@'['"`
	Items  []*listItemG `parser:"@@*"`
	Close  *lexer.Token `parser:"@']'?"`
}

type listItemG struct {
	Pos   lexer.Position
	Comma *lexer.Token `parser:"  @','"`
	Value *exprG       `parser:"| @@"`
}

// parenG is `parser:"(expr)"`.
type parenG struct {
	EndPos lexer.Position
	Open   lexer.Token  `parser:"@'('"`
	X      *exprG       `parser:"@@?"`
	Close  *lexer.Token `parser:"@')'?"`
}

// grammar is built once; a broken grammar is a programming error that every
// test catches.
var grammar = participle.MustBuild[fileG](
	participle.Lexer(lexerDef{}),
)
