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
	LBrace *lexer.Token `parser:"@'{'?"`
	Stmts  []*stmtG     `parser:"( Newline | ';' | @@ )*"`
	RBrace *lexer.Token `parser:"@'}'?"`
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
	Open   *lexer.Token `parser:"@'{'?"`
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
	Assign *assignG      `parser:" | @@"`
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

// assignG is `name = expr`.
type assignG struct {
	Name  lexer.Token  `parser:"@Ident"`
	Eq    *lexer.Token `parser:"@'='?"`
	Value *exprG       `parser:"@@?"`
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

// exprG is the lowest precedence level: terms joined by + and -.
type exprG struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Left   *termG    `parser:"@@"`
	Ops    []*addOpG `parser:"@@*"`
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

// unaryG is a primary expression after any number of signs. A "+" sign is
// captured only to be reported.
type unaryG struct {
	Signs []lexer.Token `parser:"( @( ( '-' | '+' )+ )"`
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
}

// argsG is the argument list of a call.
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
