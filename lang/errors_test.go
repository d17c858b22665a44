package lang_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

// TestErrors checks the syntax error corpus: every chunk of
// testdata/errors.flow must produce exactly the errors it is annotated with.
func TestErrors(t *testing.T) {
	for _, c := range chunkedfile.Read(t, "testdata/errors.flow") {
		f, err := lang.ParseFile("errors.flow", []byte(c.Source))
		if err != nil {
			var list lang.ErrorList
			require.True(t, errors.As(err, &list), "%s: error is a %T, want lang.ErrorList", c.Name(), err)
			for _, e := range list {
				require.Equal(t, "errors.flow", e.Pos.File)
				c.GotErrorAt(e.Pos.Line, e.Pos.Col, e.Msg)
			}
		} else {
			require.NotNil(t, f, c.Name())
		}
		c.Done()
	}
}
