package chunkedfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that keeps the failures it is told about.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failures = append(r.failures, "FATAL: "+fmt.Sprintf(format, args...))
}

const sample = "a\nb ### \"bad b\"\n---\nc ### :3 `c1` \"c2\"\n---\nd\n"

func write(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "errors.txt")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestRead(t *testing.T) {
	rec := &recorder{TB: t}
	chunks := Read(rec, write(t, sample))
	require.Empty(t, rec.failures)
	require.Len(t, chunks, 3)

	require.Equal(t, "a\nb"+strings.Repeat(" ", len(` ### "bad b"`)), chunks[0].Source)
	require.Equal(t, 1, chunks[0].Line)
	require.Len(t, chunks[0].Want[2], 1)
	require.Equal(t, "bad b", chunks[0].Want[2][0].Pattern.String())
	require.Equal(t, 0, chunks[0].Want[2][0].Col)

	require.Equal(t, 4, chunks[1].Line)
	require.Len(t, chunks[1].Want[1], 2)
	require.Equal(t, 3, chunks[1].Want[1][0].Col)
	require.Equal(t, "c2", chunks[1].Want[1][1].Pattern.String())
	require.Len(t, chunks[1].Source, len("c ### :3 `c1` \"c2\""))

	require.Equal(t, "d", chunks[2].Source, "the final newline is not part of the last chunk")
	require.Empty(t, chunks[2].Want)
	require.Equal(t, "errors.txt:6", chunks[2].Name())
}

func TestGotErrorAndDone(t *testing.T) {
	rec := &recorder{TB: t}
	chunks := Read(rec, write(t, sample))

	c := chunks[0]
	c.GotError(2, "this is a bad b here")
	c.Done()
	require.Empty(t, rec.failures)

	c = chunks[1]
	c.GotErrorAt(1, 3, "c1")
	c.GotErrorAt(1, 9, "c2")
	c.Done()
	require.Empty(t, rec.failures)

	c = Read(rec, write(t, sample))[1]
	c.GotErrorAt(1, 4, "c1") // wrong column for c1, and c2 does not match
	c.GotError(2, "extra")
	c.Done()
	require.Len(t, rec.failures, 2+2)
	require.Contains(t, rec.failures[0], `errors.txt:4:4: error "c1" does not match "c1" at column 3 or "c2"`)
	require.Contains(t, rec.failures[1], `errors.txt:5: unexpected error: extra`)
	require.Contains(t, rec.failures[2], `errors.txt:4: expected an error matching "c1", got none`)
	require.Contains(t, rec.failures[3], `errors.txt:4: expected an error matching "c2", got none`)
}

func TestMalformedAnnotations(t *testing.T) {
	rec := &recorder{TB: t}
	Read(rec, write(t, "x ### bad\ny ###\nz ### :0 \"q\"\nw ### \"(\"\n"))
	require.Len(t, rec.failures, 4)
	require.Contains(t, rec.failures[0], ":1: annotation is not a quoted regexp")
	require.Contains(t, rec.failures[1], ":2: \"###\" is not followed")
	require.Contains(t, rec.failures[2], ":3: bad column")
	require.Contains(t, rec.failures[3], ":4: bad regexp")
}
