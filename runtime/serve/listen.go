package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP requests on ln until ctx is done, then shuts down
// gracefully: every request received before is answered. It stops
// accepting connections, and from then on every answer closes its
// connection ("Connection: close"). A request may still arrive on a
// keep-alive connection whose client sent it before it learnt of the
// shutdown, so idle connections stay open for Options.ShutdownGrace (no
// longer than some are idle) before they are closed; request bodies
// still arriving must be complete within the grace too, so that a
// stalled client cannot hold the shutdown. Serve then waits up to
// Options.ShutdownTimeout for the requests in flight, and returns nil
// once they are answered, or an error if it had to cut them off or the
// listener failed. Call Close after Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opt.ReadHeaderTimeout,
		// Without it an idle keep-alive connection is held forever: a
		// client could exhaust the process's file descriptors.
		IdleTimeout:    s.opt.IdleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       s.opt.ErrorLog,
		ConnState:      s.connState,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	start := time.Now()
	s.drain(start)
	ln.Close() // stop accepting
	if err := <-served; !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Keep idle connections open for the grace, in case a request is on
	// its way, unless there are none.
	tick := time.NewTicker(min(10*time.Millisecond, s.opt.ShutdownGrace))
	defer tick.Stop()
	for time.Since(start) < s.opt.ShutdownGrace && s.waitingConns() > 0 {
		<-tick.C
	}
	// Close the idle connections, and those that finish their request.
	sctx, cancel := context.WithDeadline(context.Background(), start.Add(s.opt.ShutdownTimeout))
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("shutting down: requests still in flight after %v were cut off", s.opt.ShutdownTimeout)
	}
	return nil
}

// drain starts the shutdown: answers close their connections from now
// on, and bodies being read must arrive within the grace.
func (s *Server) drain(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drainAt = now
	s.draining.Store(true)
	cut := now.Add(s.opt.ShutdownGrace)
	for b := range s.reading {
		if cut.Before(b.deadline) {
			b.deadline = cut
			b.rc.SetReadDeadline(cut)
		}
	}
}

// connState tracks the server's connections (http.Server.ConnState).
func (s *Server) connState(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = state
	}
}

// waitingConns counts the connections on which a request may still
// arrive: new ones that have not sent one yet, and idle keep-alive ones.
func (s *Server) waitingConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, state := range s.conns {
		if state == http.StateNew || state == http.StateIdle {
			n++
		}
	}
	return n
}

// bodyRead is a request whose body is being read, and the deadline for it.
type bodyRead struct {
	rc       *http.ResponseController
	deadline time.Time
}

// startBody sets the deadline for reading a request's body: BodyTimeout
// from now, or, shutting down, the grace.
func (s *Server) startBody(rc *http.ResponseController) *bodyRead {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	b := &bodyRead{rc: rc, deadline: now.Add(s.opt.BodyTimeout)}
	if s.draining.Load() {
		b.deadline = now.Add(min(s.opt.BodyTimeout, s.opt.ShutdownGrace))
	}
	rc.SetReadDeadline(b.deadline) // unsupported by some ResponseWriters (tests'): then unbounded
	s.reading[b] = struct{}{}
	return b
}

// endBody lifts the deadline once the body is read: net/http keeps
// reading the connection in the background while the request is
// worked on, and a deadline there would cancel the request.
func (s *Server) endBody(b *bodyRead) {
	s.mu.Lock()
	delete(s.reading, b)
	s.mu.Unlock()
	b.rc.SetReadDeadline(time.Time{})
}
