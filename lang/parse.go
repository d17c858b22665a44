package lang

import (
	"fmt"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// ParseFile parses the .flow source src; filename is used in positions
// only. It returns the AST, with every node's position filled in.
//
// On failure the error is an ErrorList sorted by position, holding every
// lexical error and the first syntax error of each statement, at most one
// per line. The File is then nil or partial, but never malformed: models
// and statements with errors are left out, so tools can use what parsed;
// the compiler should stop.
func ParseFile(filename string, src []byte) (f *File, err error) {
	defer func() {
		// The grammar is built so that participle cannot fail, but a parser
		// bug must become a diagnostic, never a crash of the caller.
		if r := recover(); r != nil {
			f = nil
			err = ErrorList{{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: fmt.Sprintf("internal parser error: %v", r)}}
		}
	}()

	scanned := scan(filename, src)
	errs := scanned.errs
	if e := checkNesting(scanned.tokens); e != nil {
		errs = append(errs, e)
		errs.Sort()
		return nil, errs
	}
	if n := len(scanned.tokens); n >= participle.MaxIterations {
		errs.Add(toPos(scanned.tokens[n-1].Pos), "file too long: more than %d tokens", participle.MaxIterations)
		return nil, onePerLine(errs)
	}

	peeker, err := lexer.Upgrade(&sliceLexer{tokens: scanned.tokens})
	if err != nil {
		return nil, ErrorList{{Pos: Pos{File: filename, Line: 1, Col: 1}, Msg: "internal parser error: " + err.Error()}}
	}
	g, err := grammar.ParseFromLexer(peeker)
	if err != nil {
		errs.Add(parseErrorPos(filename, err), "internal parser error: %v", err)
		errs.Sort()
		return nil, errs
	}

	c := &converter{tokens: scanned.tokens, openComment: scanned.openComment}
	f = c.file(filename, g)
	f.Comments = scanned.comments
	errs = append(errs, c.errs...)
	if c.dropped > 0 && len(errs) == 0 {
		// Every construct left out must have been reported (or follow a
		// lexical error); anything else would lose code silently.
		errs.Add(f.Pos, "internal parser error: %d constructs dropped without a diagnostic", c.dropped)
	}
	if len(f.Models) == 0 && len(f.Funcs) == 0 && len(f.Consts) == 0 && len(f.Imports) == 0 && len(errs) == 0 {
		errs.Add(f.Pos, "no model declared")
	}
	errs = onePerLine(errs)
	return f, errs.Err()
}

// parseErrorPos returns where participle located err.
func parseErrorPos(filename string, err error) Pos {
	if pe, ok := err.(interface{ Position() lexer.Position }); ok {
		if p := toPos(pe.Position()); p.IsValid() {
			return p
		}
	}
	return Pos{File: filename, Line: 1, Col: 1}
}

// onePerLine sorts errs and keeps the first error of each line: a second
// error on a line is most often a consequence of the first.
func onePerLine(errs ErrorList) ErrorList {
	errs.Sort()
	out := errs[:0]
	for _, e := range errs {
		if n := len(out); n > 0 && out[n-1].Pos.File == e.Pos.File && out[n-1].Pos.Line == e.Pos.Line {
			continue
		}
		out = append(out, e)
	}
	return out
}
