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
	// Steps of 0.3s with the default 2s interval: the first step, then a
	// line whenever at least 2s have passed since the previous one, then the
	// last step. The time left is 0.3s per step to go.
	require.Equal(t, ""+
		"step 1/10  loss 1.0000  333 ex/s  ETA 3s\n"+
		"step 8/10  loss 0.1250  333 ex/s  ETA 1s\n"+
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
	// 1s for the first step: 999s left; 1.1s for three: 1.1/3*997 = 365.6s.
	require.Equal(t, ""+
		"\rstep 1/1000 [>                   ]   0%  loss 12.5000  1000 ex/s  ETA 16m39s"+
		"\rstep 3/1000 [>                   ]   0%  loss 0.5000  1000 ex/s  ETA 6m06s  "+ // padded over the longer line
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
	require.Equal(t, "step 1/100  loss 1.0000  10 ex/s  ETA 1m39s\nstep 2/100  loss 0.5000  100 ex/s  ETA 54s\n", out.String())
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

func TestTerminalBarAndResumedETA(t *testing.T) {
	var out bytes.Buffer
	// A run resumed after 500 of 1000 steps: the time left extrapolates
	// the steps of this run only.
	b, clock := newBar(&out, 1000, Options{Terminal: true, Initial: 500})
	b.Start()
	clock.advance(10 * time.Second)
	b.Update(750, 0.25, 2500)
	clock.advance(10 * time.Second)
	b.Update(1000, 0.125, 5000)
	b.Done()
	require.Equal(t, ""+
		"\rstep 750/1000 [===============>    ]  75%  loss 0.2500  250 ex/s  ETA 10s"+
		"\rstep 1000/1000 [====================] 100%  loss 0.1250  250 ex/s        "+
		"\n", out.String())
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {-time.Second, "0s"}, {1499 * time.Millisecond, "1s"}, {59 * time.Second, "59s"},
		{60 * time.Second, "1m00s"}, {185 * time.Second, "3m05s"}, {3599 * time.Second, "59m59s"},
		{3600 * time.Second, "1h00m"}, {2*time.Hour + 7*time.Minute + 10*time.Second, "2h07m"},
		{2*time.Hour + 7*time.Minute + 40*time.Second, "2h08m"},
	} {
		require.Equal(t, tt.want, FormatDuration(tt.d), tt.d)
	}
}
