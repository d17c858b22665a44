package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveOn runs s.Serve on a loopback port and returns its address, the
// function that stops it and the channel Serve's result arrives on.
func serveOn(t *testing.T, s *Server) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- s.Serve(ctx, ln)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
		s.Close()
	})
	return ln.Addr().String(), cancel, done
}

// safety is how long a test waits for an answer that a working server
// sends at once; it only keeps a broken server from hanging the test.
const safety = 30 * time.Second

// predictRequest is a one-example predict request for the fake model.
const predictRequest = "POST /v1/models/fake:predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n" +
	`{"instances": [[1, 2, 3, 4]]}`

// readAnswer reads one answer from a connection and checks that it is
// the fake model's complete answer to predictRequest.
func readAnswer(conn net.Conn, br *bufio.Reader) (*http.Response, error) {
	conn.SetReadDeadline(time.Now().Add(safety))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp, fmt.Errorf("reading the body: %v", err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != `{"predictions":[[6,8,10]]}`+"\n" {
		return resp, fmt.Errorf("answer %d %q", resp.StatusCode, body)
	}
	return resp, nil
}

// TestShutdownAnswersKeepAliveRequests sends requests back to back on
// keep-alive connections while the server shuts down, and checks that
// every request gets its complete answer, that the answers sent while
// shutting down close their connections, and that Serve returns cleanly.
// Closing idle keep-alive connections at once (http.Server.Shutdown)
// reset some requests: the ones a client had sent on a connection the
// server still saw as idle.
func TestShutdownAnswersKeepAliveRequests(t *testing.T) {
	for round := range 5 {
		m := newFakeModel()
		m.delay = 200 * time.Microsecond
		s, err := New(m, Options{MaxDelay: -1, ShutdownGrace: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		addr, cancel, done := serveOn(t, s)
		const clients = 16
		var answered sync.WaitGroup
		answered.Add(clients)
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counted := false // in answered
				defer func() {
					if !counted {
						answered.Done()
					}
				}()
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					errs <- err
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					if _, err := io.WriteString(conn, predictRequest); err != nil {
						errs <- fmt.Errorf("client %d, request %d: writing: %v", c, i, err)
						break
					}
					resp, err := readAnswer(conn, br)
					if err != nil {
						errs <- fmt.Errorf("client %d, request %d: %v", c, i, err)
						break
					}
					if i == 2 {
						answered.Done() // the connection has been reused
						counted = true
					}
					if resp.Close {
						// The server closes the connection after this answer.
						conn.SetReadDeadline(time.Now().Add(safety))
						if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
							errs <- fmt.Errorf("client %d: after Connection: close, read %v, want EOF", c, err)
						}
						break
					}
				}
			}()
		}
		answered.Wait()
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if err := <-done; err != nil {
			t.Errorf("round %d: Serve: %v", round, err)
		}
		if t.Failed() {
			return
		}
	}
}

// TestSlowBodyTimesOut checks that a client that sends its body too
// slowly is answered 408 and disconnected after Options.BodyTimeout,
// while other clients are served.
func TestSlowBodyTimesOut(t *testing.T) {
	s, err := New(newFakeModel(), Options{BodyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The header promises 29 bytes; only 10 come.
	io.WriteString(conn, predictRequest[:len(predictRequest)-19])
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(safety))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || !strings.Contains(string(body), "the request body did not arrive within 50ms") {
		t.Errorf("stalled body: %d (close %v) %s", resp.StatusCode, resp.Close, body)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the 408, read %v, want EOF", err)
	}

	// A slow body sent where no body is read is bounded too: net/http
	// reads what a handler left of it before the next request.
	wrong, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	io.WriteString(wrong, "POST /v1/models/fake HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{")
	wbr := bufio.NewReader(wrong)
	wrong.SetReadDeadline(time.Now().Add(safety))
	if resp, err := http.ReadResponse(wbr, nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the status: %v", err)
	}
	if _, err := io.Copy(io.Discard, wbr); err != nil {
		t.Errorf("the connection of a stalled body to the status: %v, want EOF", err)
	}

	// A client that sends in time is served, on a connection kept alive.
	other, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	obr := bufio.NewReader(other)
	for range 2 {
		io.WriteString(other, predictRequest)
		if resp, err := readAnswer(other, obr); err != nil || resp.Close {
			t.Fatalf("a prompt client: %v", err)
		}
	}
}

// TestShutdownNotHeldByStalledClient checks that a client stalled in the
// middle of its body does not hold the shutdown until its body timeout:
// once shutting down, it has the grace to finish, then is answered 503
// and disconnected, and Serve returns cleanly well within its timeout.
// An idle keep-alive connection is open too, and closed.
func TestShutdownNotHeldByStalledClient(t *testing.T) {
	s, err := New(newFakeModel(), Options{
		BodyTimeout:     time.Hour,
		ShutdownTimeout: 5 * time.Second,
		ShutdownGrace:   50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serveOn(t, s)

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	ibr := bufio.NewReader(idle)
	io.WriteString(idle, predictRequest)
	if _, err := readAnswer(idle, ibr); err != nil {
		t.Fatal(err)
	}

	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	io.WriteString(stalled, predictRequest[:len(predictRequest)-10])
	// Wait until the server reads the body.
	for deadline := time.Now().Add(safety); ; {
		s.mu.Lock()
		n := len(s.reading)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never started reading the body")
		}
		time.Sleep(time.Millisecond)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	sbr := bufio.NewReader(stalled)
	stalled.SetReadDeadline(time.Now().Add(safety))
	resp, err := http.ReadResponse(sbr, nil)
	if err != nil {
		t.Fatalf("the stalled client got no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close || !strings.Contains(string(body), "shutting down") {
		t.Errorf("stalled client: %d (close %v) %s", resp.StatusCode, resp.Close, body)
	}
	idle.SetReadDeadline(time.Now().Add(safety))
	if _, err := ibr.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: read %v, want EOF", err)
	}
}

// TestShutdownTakesRequestsOnIdleConnections checks that a request sent
// on an idle keep-alive connection just after the shutdown began is
// answered, closing the connection, rather than reset.
func TestShutdownTakesRequestsOnIdleConnections(t *testing.T) {
	s, err := New(newFakeModel(), Options{ShutdownGrace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serveOn(t, s)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	io.WriteString(conn, predictRequest)
	if resp, err := readAnswer(conn, br); err != nil || resp.Close {
		t.Fatalf("before the shutdown: %v", err)
	}
	cancel()
	for deadline := time.Now().Add(safety); !s.draining.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server does not shut down")
		}
	}
	io.WriteString(conn, predictRequest)
	resp, err := readAnswer(conn, br)
	if err != nil {
		t.Fatalf("a request sent on an idle connection once shutting down: %v", err)
	}
	if !resp.Close {
		t.Errorf("the answer does not close its connection")
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if s.Stats().Requests != 2 {
		t.Errorf("stats %+v, want 2 requests", s.Stats())
	}
}
