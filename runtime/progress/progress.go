// Package progress reports the progress of long-running work such as
// training: step, loss, throughput and the estimated time left, either as
// one self-rewriting line with a bar on a terminal or as periodic plain
// lines for logs and pipes.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// DefaultInterval is the least time between two plain (non-terminal) lines
// when Options.Interval is zero.
const DefaultInterval = 2 * time.Second

// TerminalRefresh is the least time between two redraws of the terminal
// line.
const TerminalRefresh = 100 * time.Millisecond

// Options configures a Bar.
type Options struct {
	// Terminal selects a single line rewritten in place with '\r' (for an
	// interactive terminal) instead of one plain line per report.
	Terminal bool
	// Interval is the least time between two plain lines; zero means
	// DefaultInterval. It does not apply to the terminal line, which is
	// redrawn at most every TerminalRefresh.
	Interval time.Duration
	// Quiet suppresses all output.
	Quiet bool
	// Initial is the number of steps done before this run (a resumed
	// run's first step is Initial+1); the time left is estimated from the
	// steps after it.
	Initial int
}

// barWidth is the number of cells of the terminal line's bar.
const barWidth = 20

// Bar reports the progress of a run of a known number of steps. The first
// and the last step are always reported; steps in between are reported at
// most once per interval. A Bar is not safe for concurrent use.
type Bar struct {
	// Now returns the current time; it defaults to time.Now and may be
	// replaced (before the first Start or Update) to make output
	// deterministic in tests.
	Now func() time.Time

	w     io.Writer
	total int
	opts  Options

	started  bool
	start    time.Time
	lastTime time.Time // time of the last printed report
	lastEx   int       // examples at the last printed report

	pending  bool // an update has not been printed yet
	step     int
	loss     float64
	examples int

	printed bool // anything was printed
	width   int  // length of the current terminal line
	done    bool
}

// New returns a Bar writing to w for a run of total steps (total <= 0 if
// unknown).
func New(w io.Writer, total int, opts Options) *Bar {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	return &Bar{Now: time.Now, w: w, total: total, opts: opts}
}

// IsTerminal reports whether f is a character device such as an
// interactive terminal (rather than a file or a pipe).
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}

// Start starts the clock that throughput is measured against. If it is not
// called, the first Update starts the clock (and so reports no
// throughput). Calling it again has no effect.
func (b *Bar) Start() {
	if !b.started {
		b.started = true
		b.start = b.Now()
		b.lastTime = b.start
	}
}

// Update records that step (counted from 1) has finished with the given
// loss, and that examples examples have been processed in total so far. It
// prints a report such as "step 120/1000  loss 0.3412  1234 ex/s  ETA 42s"
// if this is the first or last step or enough time has passed since the
// last report. The examples count is this run's (from Start), the step
// the absolute one (see Options.Initial).
func (b *Bar) Update(step int, loss float64, examples int) {
	if b.done {
		return
	}
	first := !b.started
	b.Start()
	b.pending, b.step, b.loss, b.examples = true, step, loss, examples
	if b.opts.Quiet {
		return
	}
	now := b.Now()
	interval := b.opts.Interval
	if b.opts.Terminal {
		interval = TerminalRefresh
	}
	last := b.total > 0 && step >= b.total
	if first || last || !b.printed || now.Sub(b.lastTime) >= interval {
		b.print(now)
	}
}

// Done prints the last update if it has not been printed and ends the
// terminal line. Later calls to Update and Done do nothing.
func (b *Bar) Done() {
	if b.done {
		return
	}
	b.done = true
	if b.opts.Quiet {
		return
	}
	if b.pending {
		b.print(b.Now())
	}
	if b.opts.Terminal && b.printed {
		io.WriteString(b.w, "\n")
	}
}

// print writes the recorded update and restarts the throughput window.
func (b *Bar) print(now time.Time) {
	line := b.format(now)
	if b.opts.Terminal {
		pad := max(0, b.width-len(line))
		b.width = len(line)
		io.WriteString(b.w, "\r"+line+strings.Repeat(" ", pad))
	} else {
		io.WriteString(b.w, line+"\n")
	}
	b.printed = true
	b.pending = false
	b.lastTime = now
	b.lastEx = b.examples
}

// format renders the recorded update; the throughput covers the time since
// the previous report, the time left extrapolates the rate of steps since
// Start.
func (b *Bar) format(now time.Time) string {
	var s strings.Builder
	if b.total > 0 {
		fmt.Fprintf(&s, "step %d/%d", b.step, b.total)
		if b.opts.Terminal {
			frac := min(1, max(0, float64(b.step)/float64(b.total)))
			full := int(frac * barWidth)
			s.WriteString(" [")
			s.WriteString(strings.Repeat("=", full))
			if full < barWidth {
				s.WriteString(">")
				s.WriteString(strings.Repeat(" ", barWidth-full-1))
			}
			fmt.Fprintf(&s, "] %3.0f%%", 100*frac)
		}
	} else {
		fmt.Fprintf(&s, "step %d", b.step)
	}
	fmt.Fprintf(&s, "  loss %.4f", b.loss)
	if dt := now.Sub(b.lastTime).Seconds(); dt > 0 {
		fmt.Fprintf(&s, "  %.0f ex/s", float64(b.examples-b.lastEx)/dt)
	}
	done, elapsed := b.step-b.opts.Initial, now.Sub(b.start)
	if left := b.total - b.step; b.total > 0 && left > 0 && done > 0 && elapsed > 0 {
		eta := time.Duration(float64(elapsed) / float64(done) * float64(left))
		s.WriteString("  ETA " + FormatDuration(eta))
	}
	return s.String()
}

// FormatDuration renders d for a progress line, rounded to whole seconds:
// "42s", "3m05s", "2h07m" (minutes from 1 hour on).
func FormatDuration(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	switch {
	case sec < 60:
		return fmt.Sprintf("%ds", max(0, sec))
	case sec < 3600:
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	}
	min := (sec + 30) / 60
	return fmt.Sprintf("%dh%02dm", min/60, min%60)
}
