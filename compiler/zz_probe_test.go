package compiler

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

func TestZZProbe(t *testing.T) {
	file := os.Getenv("PROBE")
	if file == "" {
		t.Skip()
	}
	for _, c := range chunkedfile.Read(t, file) {
		_, err := Compile("errors.flow", []byte(c.Source), Options{})
		fmt.Printf("== chunk at %d\n", c.Line)
		var list lang.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Printf("  %d:%d (file line %d): %s\n", e.Pos.Line, e.Pos.Col, c.FileLine(e.Pos.Line), e.Msg)
			}
		} else if err != nil {
			fmt.Printf("  NONPOS: %v\n", err)
		}
	}
}
