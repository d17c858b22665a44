package lang

import "strconv"

// This file holds the abstract syntax tree. Every node carries the position
// of its first character; the checker reports errors against those positions.

// Pos is a position in a source file. Line and Col start at 1; Col counts
// bytes, as Go's go/token does. The zero Pos means "unknown".
type Pos struct {
	File   string
	Offset int
	Line   int
	Col    int
}

// IsValid reports whether p refers to a real place in a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String renders p as file:line:col (or line:col when the file is unnamed).
func (p Pos) String() string {
	if !p.IsValid() {
		return p.File
	}
	if p.File == "" {
		return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Node is implemented by every AST node.
type Node interface {
	// Position returns where the node starts.
	Position() Pos
}

// File is one parsed .flow file.
type File struct {
	Pos      Pos
	Name     string        // the file name used in positions
	Models   []*Model      // the models declared in the file, in source order
	Imports  []*ImportDecl // the file's imports, in source order
	Consts   []*ConstDecl  // the file-level named constants, in source order
	Funcs    []*FuncDecl   // the functions (layers) declared, in source order
	Comments []*Comment    // every comment, in source order (for the formatter)
}

// ImportDecl is `import "path"` at file level: it makes the functions and
// constants of another .flow file, named relative to this one, available.
type ImportDecl struct {
	Pos  Pos
	Path *StringLit
}

// ConstDecl is `const name = expr`: a named compile-time constant (a
// number, a bool, a string or a tensor literal). It appears at file level
// (File.Consts) or as a statement of a model or function body.
type ConstDecl struct {
	Pos   Pos
	Name  *Ident
	Value Expr
}

// FuncDecl is a function (a layer) declared at file level:
//
//	fn name(params) [-> type] { body }
//
// Its body holds ParamDecl, AssignStmt and ConstDecl statements and ends
// with one ReturnStmt. Result is nil when no result type is declared.
type FuncDecl struct {
	Pos    Pos
	Name   *Ident
	Params []*FuncParam
	Result *TypeExpr
	Body   []Decl
	EndPos Pos // position of the closing brace
}

// FuncParam is one parameter of a function: `name: type`, `name: type =
// default` or `name = default`. Type is nil when omitted (the default's
// kind is then the parameter's kind); Default is nil when there is none.
// A Type of int, float, bool or string (without brackets) declares a
// compile-time parameter; any other type is a tensor parameter.
type FuncParam struct {
	Pos     Pos
	Name    *Ident
	Type    *TypeExpr
	Default Expr
}

// ReturnStmt is `return expr`, the last statement of a function body.
type ReturnStmt struct {
	Pos   Pos
	Value Expr
}

// Comment is one `// ...` line comment or `/* ... */` block comment,
// with its delimiters.
type Comment struct {
	Pos  Pos
	Text string
}

// Model is `model Name { decls }`.
type Model struct {
	Pos    Pos
	Name   *Ident
	Decls  []Decl
	EndPos Pos // position of the closing brace
}

// Decl is a statement inside a model or function body: *InputDecl,
// *ParamDecl, *AssignStmt, *OutputStmt, *TrainStmt, *ConstDecl or
// *ReturnStmt. The statements of a Block (an if branch, a while or for
// body) are AssignStmts.
type Decl interface {
	Node
	declNode()
}

// InputDecl is `input name: type` — a placeholder fed on every call.
type InputDecl struct {
	Pos  Pos
	Name *Ident
	Type *TypeExpr
}

// ParamDecl is `param name: type [= init]` — a variable whose value
// persists across steps and that training updates. Init is nil when
// omitted (the checker picks the default, zeros).
type ParamDecl struct {
	Pos  Pos
	Name *Ident
	Type *TypeExpr
	Init Expr
}

// AssignStmt is `name = expr`: it names the value of expr; or `a, b =
// expr`, which names the several results of expr (an if, while or for
// expression) in order. Name is the first (for `name = expr`, the only)
// target; Names holds every target when there are several, and is nil
// when there is one.
type AssignStmt struct {
	Pos   Pos
	Name  *Ident
	Names []*Ident
	Value Expr
}

// Targets returns the names an assignment defines, in order.
func (n *AssignStmt) Targets() []*Ident {
	if n.Names != nil {
		return n.Names
	}
	return []*Ident{n.Name}
}

// OutputStmt is `output a, b`: the values Predict returns.
type OutputStmt struct {
	Pos   Pos
	Names []*Ident
}

// TrainStmt is `train loss with optimizer(args)`.
type TrainStmt struct {
	Pos       Pos
	Loss      Expr
	Optimizer *CallExpr
}

// TypeExpr is a tensor type such as `f32[N, 784]` or the scalar `f32`
// (no brackets, Dims == nil) or `f32[]`.
type TypeExpr struct {
	Pos   Pos
	DType *Ident
	Dims  []*DimExpr
}

// DimExpr is one dimension of a TypeExpr: an integer size, or a named
// symbolic dimension such as N (Name != "").
type DimExpr struct {
	Pos  Pos
	Size int64
	Name string
}

// Expr is an expression: *Ident, *NumberLit, *StringLit, *ListLit,
// *UnaryExpr, *BinaryExpr, *CallExpr, *ParenExpr, or one of the block
// expressions *IfExpr, *WhileExpr and *ForExpr.
type Expr interface {
	Node
	exprNode()
}

// Ident is a name.
type Ident struct {
	Pos  Pos
	Name string
}

// NumberLit is an integer or floating-point literal. Text is the literal
// as written (the formatter prints it unchanged).
type NumberLit struct {
	Pos   Pos
	Text  string
	Value float64
	IsInt bool
}

// StringLit is a double-quoted string literal; Value is unquoted.
type StringLit struct {
	Pos   Pos
	Value string
}

// ListLit is `[a, b, ...]`.
type ListLit struct {
	Pos   Pos
	Elems []Expr
}

// UnaryExpr is a prefix operator applied to X. Op is "-" (negation) or
// "!" (logical not).
type UnaryExpr struct {
	Pos Pos
	Op  string
	X   Expr
}

// BinaryExpr is X Op Y with Op one of + - * / @ (arithmetic),
// < > <= >= == != (comparisons) or && || (logical).
type BinaryExpr struct {
	Pos   Pos // position of X
	OpPos Pos // position of the operator
	Op    string
	X, Y  Expr
}

// CallExpr is `fn(args..., name = value, ...)`. Positional arguments come
// before keyword arguments.
type CallExpr struct {
	Pos    Pos
	Func   *Ident
	Args   []Expr
	Kwargs []*KeywordArg
}

// KeywordArg is `name = value` inside a call.
type KeywordArg struct {
	Pos   Pos
	Name  *Ident
	Value Expr
}

// ParenExpr is `(X)`; kept so the formatter can reproduce parentheses.
type ParenExpr struct {
	Pos Pos
	X   Expr
}

// Block is `{ statements }`, the body of an if branch, a while or a for.
// Its statements are assignments. An if branch ends with its value, a line
// of one or more comma-separated expressions (Result); a for body may end
// with a yield. Result is nil outside if branches, Yield nil when absent.
type Block struct {
	Pos    Pos // position of the opening brace
	Stmts  []Decl
	Result []Expr
	Yield  *YieldStmt
	EndPos Pos // position of the closing brace
}

// YieldStmt is `yield e1, e2`, the last line of a for body: the values of
// one step, which the for stacks along its axis.
type YieldStmt struct {
	Pos    Pos
	Values []Expr
}

// IfExpr is `if Cond { Then } else { Else }`, or with `else if` in place
// of the final else: ElseIf is then the if-expression after "else", and
// exactly one of ElseIf and Else is set. Its value is the value of the
// branch taken: one value, or several for `a, b = if …`.
type IfExpr struct {
	Pos    Pos
	Cond   Expr
	Then   *Block
	ElseIf *IfExpr
	Else   *Block
}

// Carried is `name = init`, a value carried from one trip of a loop to the
// next, with its initial value.
type Carried struct {
	Pos  Pos
	Name *Ident
	Init Expr
}

// WhileExpr is `while (carried) Cond [limit Limit] { Body }`: while Cond,
// evaluated on the carried values before each trip, holds, Body runs and
// reassigns carried names. Its results are the final carried values, in
// order. Limit (nil when absent) is the maximum number of trips.
type WhileExpr struct {
	Pos     Pos
	Carried []*Carried
	Cond    Expr
	Limit   Expr
	Body    *Block
}

// ForSeq is `name in expr` in a for header: name is bound to each slice
// of the sequence along the for's axis.
type ForSeq struct {
	Pos  Pos
	Name *Ident
	Seq  Expr
}

// ForExpr is a scan: `for x in xs, … [along Axis] [reverse] [(carried)]
// { Body }`. Body runs once per slice of the sequences along Axis (nil
// means 0), last to first when Reverse; its yield gives the values of a
// step. Its results are the yields stacked along Axis, then the final
// carried values.
type ForExpr struct {
	Pos     Pos
	Seqs    []*ForSeq
	Axis    Expr
	Reverse bool
	Carried []*Carried
	Body    *Block
}

// Position returns where the File starts.
func (n *File) Position() Pos { return n.Pos }

// Position returns where the Comment starts.
func (n *Comment) Position() Pos { return n.Pos }

// Position returns where the ImportDecl starts.
func (n *ImportDecl) Position() Pos { return n.Pos }

// Position returns where the ConstDecl starts.
func (n *ConstDecl) Position() Pos { return n.Pos }

// Position returns where the FuncDecl starts.
func (n *FuncDecl) Position() Pos { return n.Pos }

// Position returns where the FuncParam starts.
func (n *FuncParam) Position() Pos { return n.Pos }

// Position returns where the ReturnStmt starts.
func (n *ReturnStmt) Position() Pos { return n.Pos }

// Position returns where the Model starts.
func (n *Model) Position() Pos { return n.Pos }

// Position returns where the InputDecl starts.
func (n *InputDecl) Position() Pos { return n.Pos }

// Position returns where the ParamDecl starts.
func (n *ParamDecl) Position() Pos { return n.Pos }

// Position returns where the AssignStmt starts.
func (n *AssignStmt) Position() Pos { return n.Pos }

// Position returns where the OutputStmt starts.
func (n *OutputStmt) Position() Pos { return n.Pos }

// Position returns where the TrainStmt starts.
func (n *TrainStmt) Position() Pos { return n.Pos }

// Position returns where the TypeExpr starts.
func (n *TypeExpr) Position() Pos { return n.Pos }

// Position returns where the DimExpr starts.
func (n *DimExpr) Position() Pos { return n.Pos }

// Position returns where the Ident starts.
func (n *Ident) Position() Pos { return n.Pos }

// Position returns where the NumberLit starts.
func (n *NumberLit) Position() Pos { return n.Pos }

// Position returns where the StringLit starts.
func (n *StringLit) Position() Pos { return n.Pos }

// Position returns where the ListLit starts.
func (n *ListLit) Position() Pos { return n.Pos }

// Position returns where the UnaryExpr starts.
func (n *UnaryExpr) Position() Pos { return n.Pos }

// Position returns where the BinaryExpr starts.
func (n *BinaryExpr) Position() Pos { return n.Pos }

// Position returns where the CallExpr starts.
func (n *CallExpr) Position() Pos { return n.Pos }

// Position returns where the KeywordArg starts.
func (n *KeywordArg) Position() Pos { return n.Pos }

// Position returns where the ParenExpr starts.
func (n *ParenExpr) Position() Pos { return n.Pos }

// Position returns where the Block starts.
func (n *Block) Position() Pos { return n.Pos }

// Position returns where the YieldStmt starts.
func (n *YieldStmt) Position() Pos { return n.Pos }

// Position returns where the IfExpr starts.
func (n *IfExpr) Position() Pos { return n.Pos }

// Position returns where the Carried value starts.
func (n *Carried) Position() Pos { return n.Pos }

// Position returns where the WhileExpr starts.
func (n *WhileExpr) Position() Pos { return n.Pos }

// Position returns where the ForSeq starts.
func (n *ForSeq) Position() Pos { return n.Pos }

// Position returns where the ForExpr starts.
func (n *ForExpr) Position() Pos { return n.Pos }

func (*InputDecl) declNode()  {}
func (*ParamDecl) declNode()  {}
func (*AssignStmt) declNode() {}
func (*OutputStmt) declNode() {}
func (*TrainStmt) declNode()  {}
func (*ConstDecl) declNode()  {}
func (*ReturnStmt) declNode() {}

func (*Ident) exprNode()      {}
func (*NumberLit) exprNode()  {}
func (*StringLit) exprNode()  {}
func (*ListLit) exprNode()    {}
func (*UnaryExpr) exprNode()  {}
func (*BinaryExpr) exprNode() {}
func (*CallExpr) exprNode()   {}
func (*ParenExpr) exprNode()  {}
func (*IfExpr) exprNode()     {}
func (*WhileExpr) exprNode()  {}
func (*ForExpr) exprNode()    {}
