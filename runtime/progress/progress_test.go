package progress

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newBar(w *bytes.Buffer, total int, o Options) (*Bar, *fakeClock) {
	c := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(w, total, o)
	b.Now = c.now
	return b, c
}

func TestPlainLines(t *testing.T) {
	var out bytes.Buffer
	b, clock := newBar(&out, 10, Options{})
	b.Start()
	for step := 1; step <= 10; step++ {
		clock.advance(300 * time.Millisecond)
		b.Update(step, 1/float64(step), step*100)
	}
	b.Done()
	// Steps of 0.3s with a 1s interval: the first step, then a line whenever
	// at least 1s has passed since the previous one, then the last step.
	require.Equal(t, ""+
		"step 1/10  loss 1.0000  333 ex/s\n"+
		"step 5/10  loss 0.2000  333 ex/s\n"+
		"step 9/10  loss 0.1111  333 ex/s\n"+
		"step 10/10  loss 0.1000  333 ex/s\n", out.String())
}

func TestPlainCustomIntervalAndNoStart(t *testing.T) {
	var out bytes.Buffer
	b, clock := newBar(&out, 0, Options{Interval: 2 * time.Second})
	b.Update(1, 2.5, 50) // starts the clock: no throughput yet
	clock.advance(time.Second)
	b.Update(2, 2, 100)
	clock.advance(time.Second)
	b.Update(3, math.NaN(), 150)
	clock.advance(500 * time.Millisecond)
	b.Update(4, 1, 200)
	b.Done()
	b.Done()
	b.Update(5, 1, 250)
	require.Equal(t, ""+
		"step 1  loss 2.5000\n"+
		"step 3  loss NaN  50 ex/s\n"+
		"step 4  loss 1.0000  100 ex/s\n", out.String())
}

func TestTerminalLine(t *testing.T) {
	var out bytes.Buffer
	b, clock := newBar(&out, 1000, Options{Terminal: true})
	b.Start()
	clock.advance(time.Second)
	b.Update(1, 12.5, 1000)
	clock.advance(50 * time.Millisecond)
	b.Update(2, 1.25, 2000) // within 100ms: not drawn
	clock.advance(50 * time.Millisecond)
	b.Update(3, 0.5, 1100)
	b.Done()
	require.Equal(t, ""+
		"\rstep 1/1000  loss 12.5000  1000 ex/s"+
		"\rstep 3/1000  loss 0.5000  1000 ex/s "+ // padded over the longer line
		"\n", out.String())
}

func TestDoneFlushesPendingUpdate(t *testing.T) {
	var out bytes.Buffer
	b, clock := newBar(&out, 100, Options{})
	b.Start()
	clock.advance(time.Second)
	b.Update(1, 1, 10)
	clock.advance(100 * time.Millisecond)
	b.Update(2, 0.5, 20)
	b.Done()
	require.Equal(t, "step 1/100  loss 1.0000  10 ex/s\nstep 2/100  loss 0.5000  100 ex/s\n", out.String())
}

func TestQuiet(t *testing.T) {
	var out bytes.Buffer
	for _, terminal := range []bool{false, true} {
		b, _ := newBar(&out, 3, Options{Quiet: true, Terminal: terminal})
		b.Update(1, 1, 1)
		b.Update(3, 1, 3)
		b.Done()
	}
	require.Empty(t, out.String())
}

func TestTerminalDoneWithoutUpdates(t *testing.T) {
	var out bytes.Buffer
	b, _ := newBar(&out, 3, Options{Terminal: true})
	b.Done()
	require.Empty(t, out.String())
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()
	require.False(t, IsTerminal(f))
	require.False(t, IsTerminal(nil))
	if null, err := os.Open(os.DevNull); err == nil {
		defer null.Close()
		require.True(t, IsTerminal(null), "%s is a character device", os.DevNull)
	}
}
