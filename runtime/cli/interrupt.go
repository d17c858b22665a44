package cli

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// Exit codes of a train run that a signal stopped early, after it saved
// its final checkpoint and closed its log: 128 plus the signal's number, as
// a shell reports a process the signal killed, so that scripts see the run
// did not complete.
const (
	// ExitInterrupted reports a run stopped by SIGINT (Ctrl-C).
	ExitInterrupted = 128 + 2
	// ExitTerminated reports a run stopped by SIGTERM.
	ExitTerminated = 128 + 15
)

// interruption is how train learns it should stop early: the first SIGINT
// or SIGTERM asks it to stop after the current step, and removes the
// handler, so that a second signal kills the process at once.
type interruption struct {
	sig     atomic.Pointer[os.Signal] // the first signal received, nil before
	once    sync.Once
	release func() // removes the signal handler
}

// onTrainInterruptible, if set, is called with the function that
// interrupts the training run just started, as a signal does; tests use it
// to interrupt a run at an exact step.
var onTrainInterruptible func(interrupt func(os.Signal))

// catchInterrupts makes SIGINT and SIGTERM interrupt training instead of
// killing the process, until the returned function is called or the
// first signal arrives.
func catchInterrupts() (*interruption, func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, serveSignals...)
	in := &interruption{release: func() { signal.Stop(c) }}
	done := make(chan struct{})
	go func() {
		select {
		case s := <-c:
			in.interrupt(s)
		case <-done:
		}
	}()
	if onTrainInterruptible != nil {
		onTrainInterruptible(in.interrupt)
	}
	return in, func() {
		in.release()
		close(done)
	}
}

// interrupt records the first signal and removes the handler.
func (in *interruption) interrupt(s os.Signal) {
	in.once.Do(func() {
		in.sig.Store(&s)
		in.release()
	})
}

// signal returns the signal that interrupted training, or nil.
func (in *interruption) signal() os.Signal {
	if p := in.sig.Load(); p != nil {
		return *p
	}
	return nil
}

// interruptedError is train's result when a signal stopped it early. The
// run ended cleanly and said so; Main prints nothing more and returns
// the signal's exit code.
type interruptedError struct {
	sig         os.Signal
	step, steps int // the last step done, and the steps planned
}

func (e *interruptedError) Error() string {
	return fmt.Sprintf("interrupted by %s at step %d of %d", signalName(e.sig), e.step, e.steps)
}

// exitCode returns ExitTerminated for SIGTERM and ExitInterrupted for
// any other signal.
func (e *interruptedError) exitCode() int {
	if e.sig == syscall.SIGTERM {
		return ExitTerminated
	}
	return ExitInterrupted
}

// signalName names the signals train handles as a shell user knows them.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
