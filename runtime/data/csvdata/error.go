package csvdata

import "fmt"

// Error is an error about a data file: File names it, Line is the 1-based
// physical line the problem is on (0 when no single line is at fault), and
// Msg says what is wrong.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats e as "file:line: msg", or "file: msg" when Line is 0.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// errorf returns an *Error for file at line.
func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
