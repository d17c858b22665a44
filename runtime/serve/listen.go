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
// shutdown, so a connection is closed only once it has been idle for
// Options.ShutdownGrace (since the shutdown began, or since its last
// answer); request bodies still arriving must be complete within the
// grace too, so that a stalled client cannot hold the shutdown. Serve
// returns nil once every connection is closed, or an error if the
// listener failed or requests were still in flight after
// Options.ShutdownTimeout (their connections are then closed). Call
// Close after Serve returns.
//
// Serve does not use http.Server.Shutdown, which closes idle
// connections at once: a request on its way on one of them is reset,
// and one whose header is being read when it is called is dropped.
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
	case err := <-served: // the listener failed
		hs.Close()
		return err
	case <-ctx.Done():
	}

	start := time.Now()
	s.drain(start)
	ln.Close() // stop accepting
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		hs.Close()
		return err
	}
	tick := time.NewTicker(min(10*time.Millisecond, s.opt.ShutdownGrace))
	defer tick.Stop()
	for s.closeIdle(start) > 0 {
		if time.Since(start) > s.opt.ShutdownTimeout {
			hs.Close()
			return fmt.Errorf("shutting down: requests still in flight after %v were cut off", s.opt.ShutdownTimeout)
		}
		<-tick.C
	}
	return nil
}

// drain starts the shutdown: answers close their connections from now
// on, and bodies being read must arrive within the grace.
func (s *Server) drain(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining.Store(true)
	cut := now.Add(s.opt.ShutdownGrace)
	for b := range s.reading {
		if cut.Before(b.deadline) {
			b.deadline = cut
			b.rc.SetReadDeadline(cut)
		}
	}
}

// connInfo is the state of a connection and since when it is in it.
type connInfo struct {
	state http.ConnState
	since time.Time
}

// connState tracks the server's connections (http.Server.ConnState).
func (s *Server) connState(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	default:
		s.conns[c] = connInfo{state, time.Now()}
	}
}

// closeIdle closes the connections that, the shutdown having begun at
// start, have waited for a request for the grace: new ones that have not
// sent one, and idle keep-alive ones. It returns the number of
// connections still open.
func (s *Server) closeIdle(start time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for c, ci := range s.conns {
		if (ci.state == http.StateNew || ci.state == http.StateIdle) && now.Sub(later(ci.since, start)) >= s.opt.ShutdownGrace {
			c.Close() // its goroutine reports it closed
		}
	}
	return len(s.conns)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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

// endBody ends the reading of a body. Once the whole body is read, it
// lifts the deadline: net/http keeps reading the connection in the
// background while the request is worked on, and a deadline there would
// cancel the request. Otherwise the deadline is made past: net/http
// would try to read the rest of the body before closing the connection.
func (s *Server) endBody(b *bodyRead, complete bool) {
	s.mu.Lock()
	delete(s.reading, b)
	s.mu.Unlock()
	if complete {
		b.rc.SetReadDeadline(time.Time{})
	} else {
		b.rc.SetReadDeadline(time.Unix(1, 0))
	}
}
