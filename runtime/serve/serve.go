// Package serve serves a generated model's predictions over HTTP with the
// REST shape of TensorFlow Serving:
//
//	GET  /v1/models/NAME            model status
//	GET  /v1/models/NAME/metadata   signature (inputs, outputs, dtypes, shapes)
//	POST /v1/models/NAME:predict    {"instances": [...]} → {"predictions": [...]}
//	                                {"inputs": ...}      → {"outputs": ...}
//
// An optional "/versions/1" may follow NAME. Requests from concurrent
// clients are queued and merged into one PredictFeed call of up to a
// maximum batch, waiting a bounded time for more examples after the first
// (dynamic batching); one goroutine owns the model, which is not safe for
// concurrent use. Errors are JSON objects {"error": "..."}: 400 for a
// malformed request (bad JSON, wrong shape or dtype, missing input), 404
// for an unknown model or path, 405 for a wrong method, 408 for a body
// that does not arrive in time, 413 for a body over the limit or with more
// examples than the memory limit allows, 503 when the queue is full.
//
// A model whose predict inputs have symbolic dimensions after the batch
// (x f32[N,T,5], T a sequence length) is served too: a request's first
// example gives their sizes, which all its examples must share (400
// otherwise) and which may differ between requests; only requests of
// equal sizes share a PredictFeed call, and outputs with such a
// dimension are answered at the request's sizes. What such a request
// reserves is bounded by its body's size, and sizes whose examples would
// pass that or the memory limit are refused (413) as soon as the decoder
// sees them.
//
// Bodies are decoded as they arrive, straight into the model's input
// tensors (decode.go), and every request reserves the memory it may come
// to hold before its body is read (memory.go), so that what clients send
// cannot exhaust the server's memory. Serve runs the HTTP server and shuts
// it down without dropping a request (listen.go).
//
// The package uses only the standard library: it is embedded in the model
// binaries flowc builds.
package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// Defaults of Options' zero fields.
const (
	DefaultMaxBatch          = 64
	DefaultMaxDelay          = 2 * time.Millisecond
	DefaultQueue             = 1024
	DefaultMaxBody           = 16 << 20
	DefaultMaxMemory         = 256 << 20
	DefaultBodyTimeout       = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultShutdownGrace     = time.Second
)

// maxHeaderBytes bounds a request's header, which a predict request
// needs little of (net/http's default is 1 MiB per connection).
const maxHeaderBytes = 64 << 10

// Options configure a Server. Zero fields take the defaults above.
type Options struct {
	// Name is the model name in URLs; empty means Name(sig), the model's
	// source file name without ".flow".
	Name string
	// MaxBatch is the most examples fed to the model in one call. It is
	// capped by the model's Signature.MaxBatch, and a model whose inputs
	// have a fixed batch size is always fed exactly that many (padding with
	// zeros).
	MaxBatch int
	// MaxDelay is how long the batcher waits for more requests after the
	// first one of a batch; negative means not at all.
	MaxDelay time.Duration
	// Queue is how many requests may wait for the model; more get 503.
	// For a model with a sequence length, the batcher may hold as many
	// again, of other lengths than the batch it gathers.
	Queue int
	// MaxBody is the largest request body in bytes; larger ones get 413.
	MaxBody int64
	// TopK, when positive, makes a classifier (a model whose only
	// per-example output is a vector of class scores) answer with its K
	// best classes and their scores; New rejects it for other models. A
	// request's "top_k" overrides it.
	TopK int
	// MaxMemory bounds in bytes the memory all predict requests hold at
	// once: the buffer their body is read through, their decoded inputs,
	// their outputs and their answers. Before its body is read, a request
	// reserves the most it can come to hold (as many examples as a body
	// of its size can hold, at two bytes a value), waiting while others
	// hold the rest; once decoded it keeps what its examples take. A body
	// that could hold more examples than fit the limit alone is decoded
	// up to those and refused with 413 past them. New fails if one
	// example does not fit.
	MaxMemory int64
	// BodyTimeout bounds the time to receive a request's body, counted
	// from when the server starts reading it, and the time to send its
	// answer; a client slower than that gets 408 and is disconnected.
	BodyTimeout time.Duration

	// The HTTP server Serve runs.

	// ReadHeaderTimeout bounds the time to receive a request's header.
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may stay idle.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for the requests in
	// flight once its context is done.
	ShutdownTimeout time.Duration
	// ShutdownGrace is how long, once Serve's context is done, requests
	// already sent are still taken in: connections that stay idle that
	// long are closed (one on which a request arrives is answered and
	// closed), and request bodies still arriving must be complete
	// within it.
	ShutdownGrace time.Duration
	// ErrorLog receives the HTTP server's errors; nil means the log
	// package's standard logger.
	ErrorLog *log.Logger
}

// Stats counts what a Server has done.
type Stats struct {
	// Requests is the number of predict requests answered with results.
	Requests int64
	// Batches is the number of PredictFeed calls.
	Batches int64
	// Examples is the number of examples fed, padding excluded.
	Examples int64
}

// Server serves one model. Create it with New, run it with Serve, and
// call Close once Serve has returned. It also implements http.Handler,
// for an HTTP server of one's own: the memory limit and the body
// deadlines hold there too, but the graceful shutdown is Serve's.
type Server struct {
	model    runtime.Model
	sig      *runtime.Signature
	info     *modelInfo
	name     string
	opt      Options
	maxBatch int

	queue   chan *job
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once

	requests, batches, examples atomic.Int64

	// arriving counts predict requests being received and decoded, not
	// yet queued: the batcher waits for more only while there are some.
	arriving atomic.Int64
	// wake tells a waiting batcher that a request left without queueing.
	wake chan struct{}

	// mem is the budget of Options.MaxMemory that requests reserve;
	// maxExamples is the most examples one request may hold within it.
	mem         memory
	maxExamples int64

	// Shutting down (see Serve).
	draining atomic.Bool
	mu       sync.Mutex
	reading  map[*bodyRead]struct{} // requests whose body is being read
	conns    map[net.Conn]connInfo  // the connections Serve has open

	// Batcher-owned state.
	bufs [][]float32 // concatenated inputs, one per predict input
	segs []segment
}

// Name returns the name a model is served under: its source file's base
// name without extension (examples/mlp.flow → "mlp"), or the model's
// declared name in lower case when the source is unknown.
func Name(sig *runtime.Signature) string {
	if sig.Source != "" {
		base := path.Base(strings.ReplaceAll(sig.Source, "\\", "/"))
		if name := strings.TrimSuffix(base, path.Ext(base)); name != "" && name != "." && name != "/" {
			return name
		}
	}
	return strings.ToLower(sig.Model)
}

// New returns a Server for m and starts its batcher. It fails if the
// model's interface cannot be served: no predict inputs, inputs that
// disagree on the batch size, or no output with one entry per example.
func New(m runtime.Model, opt Options) (*Server, error) {
	if m == nil || m.Signature() == nil {
		return nil, errors.New("serve: the model has no signature")
	}
	sig := m.Signature()
	info, err := newModelInfo(sig)
	if err != nil {
		return nil, err
	}
	if opt.Name == "" {
		opt.Name = Name(sig)
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	if opt.MaxDelay == 0 {
		opt.MaxDelay = DefaultMaxDelay
	}
	if opt.Queue <= 0 {
		opt.Queue = DefaultQueue
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.MaxMemory <= 0 {
		opt.MaxMemory = DefaultMaxMemory
	}
	if opt.BodyTimeout <= 0 {
		opt.BodyTimeout = DefaultBodyTimeout
	}
	if opt.ReadHeaderTimeout <= 0 {
		opt.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.ShutdownTimeout <= 0 {
		opt.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opt.ShutdownGrace <= 0 {
		opt.ShutdownGrace = DefaultShutdownGrace
	}
	maxExamples := (opt.MaxMemory - scanBufSize) / info.exampleCost()
	if maxExamples < 1 {
		return nil, fmt.Errorf("serve: a memory limit of %d bytes holds no example of model %s, which takes up to %d bytes (and %d for reading its request)",
			opt.MaxMemory, sig.Model, info.exampleCost(), scanBufSize)
	}
	if opt.TopK < 0 {
		return nil, fmt.Errorf("serve: top-k must not be negative, got %d", opt.TopK)
	}
	if opt.TopK > 0 && info.classes == 0 {
		return nil, fmt.Errorf("serve: top-k needs a classifier, a model whose only output has one vector of class scores per example; model %s outputs %s", sig.Model, info.describeOutputs())
	}
	maxBatch := opt.MaxBatch
	if sig.MaxBatch > 0 && maxBatch > sig.MaxBatch {
		maxBatch = sig.MaxBatch
	}
	if info.fixed > 0 {
		maxBatch = info.fixed
	}
	s := &Server{
		model:    m,
		sig:      sig,
		info:     info,
		name:     opt.Name,
		opt:      opt,
		maxBatch: maxBatch,
		queue:    make(chan *job, opt.Queue),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		bufs:     make([][]float32, len(info.inputs)),

		mem:         memory{free: opt.MaxMemory},
		maxExamples: maxExamples,
		reading:     map[*bodyRead]struct{}{},
		conns:       map[net.Conn]connInfo{},
	}
	for i, t := range info.inputs {
		if t.syms == nil { // else sized per batch (run)
			s.bufs[i] = make([]float32, maxBatch*t.per)
		}
	}
	go s.loop()
	return s, nil
}

// ModelName returns the name the model is served under.
func (s *Server) ModelName() string { return s.name }

// MaxBatch returns the most examples the server feeds the model at once.
func (s *Server) MaxBatch() int { return s.maxBatch }

// Classes returns the number of classes when the model is a classifier
// (its only per-example output is a vector of class scores), else 0.
func (s *Server) Classes() int { return s.info.classes }

// Stats returns counts of the work done so far.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Batches: s.batches.Load(), Examples: s.examples.Load()}
}

// Close stops the batcher. Call it after the HTTP server has shut down
// (Serve has returned), when no request is in flight; requests still
// waiting get 503. Close is idempotent.
func (s *Server) Close() {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
}

// matches reports whether name in a URL names the served model: its served
// name, or its declared name in any case.
func (s *Server) matches(name string) bool {
	return name == s.name || (s.sig.Model != "" && strings.EqualFold(name, s.sig.Model))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		// Bound the reading of the body: net/http reads what is left of
		// it before the next request. servePredict, which reads it, sets
		// its own deadline.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.opt.BodyTimeout))
	}
	const prefix = "/v1/models/"
	p := r.URL.Path
	if !strings.HasPrefix(p, prefix) {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %q; the API is under %s%s", p, prefix, s.name))
		return
	}
	rest := p[len(prefix):]
	verb := ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest, verb = rest[:i], rest[i+1:]
	}
	parts := strings.Split(rest, "/")
	name := parts[0]
	if !s.matches(name) {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found; this server serves %q", name, s.name))
		return
	}
	parts = parts[1:]
	if len(parts) >= 2 && parts[0] == "versions" {
		if parts[1] != "1" {
			s.writeError(w, http.StatusNotFound, fmt.Sprintf("model %s has no version %q; its only version is 1", s.name, parts[1]))
			return
		}
		parts = parts[2:]
	}
	metadata := len(parts) == 1 && parts[0] == "metadata"
	if len(parts) > 1 || len(parts) == 1 && !metadata || metadata && verb != "" {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %q", p))
		return
	}
	switch {
	case verb == "" && !metadata:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.writeJSON(w, http.StatusOK, statusBody)
		}
	case metadata:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.serveMetadata(w)
		}
	case verb == "predict":
		if s.allow(w, r, http.MethodPost) {
			s.servePredict(w, r)
		}
	default:
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("unsupported method %q; this server supports :predict", verb))
	}
}

// allow reports whether r's method is among methods, answering 405 when
// it is not.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	s.writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use %s", r.Method, methods[0]))
	return false
}

// statusBody is the model status answer: version 1, available.
var statusBody = []byte(`{"model_version_status":[{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}` + "\n")

// servePredict answers POST :predict.
func (s *Server) servePredict(w http.ResponseWriter, r *http.Request) {
	s.arriving.Add(1)
	queued := false
	defer func() {
		if !queued {
			s.arriving.Add(-1)
			s.wakeBatcher()
		}
	}()
	if r.ContentLength > s.opt.MaxBody {
		s.writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.opt.MaxBody))
		return
	}
	// Reserve the most memory the body can come to need, before reading it.
	size := r.ContentLength
	if size < 0 {
		size = s.opt.MaxBody
	}
	maxExamples := min(s.info.bodyExamples(size), s.maxExamples)
	reserved := scanBufSize + maxExamples*s.info.exampleCost()
	budget := int64(math.MaxInt64)
	if len(s.info.syms) > 0 {
		// Examples whose size the request gives (a sequence length T):
		// bound what they hold by the body's size, and the decoder
		// refuses sizes past that.
		budget = s.info.requestBound(size, s.opt.MaxMemory-scanBufSize)
		reserved = scanBufSize + budget
	}
	if err := s.mem.acquire(r.Context(), reserved); err != nil {
		return // the client is gone
	}
	defer func() { s.mem.release(reserved) }()

	rc := http.NewResponseController(w)
	body := http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	read := s.startBody(rc)
	buf := scanBufs.Get().(*[]byte)
	req, err := decodeWithin(body, s.info, int(maxExamples), budget, *buf)
	complete := err == nil
	if re := (*readError)(nil); err != nil && !errors.As(err, &re) {
		// Read the rest, so that the client, still sending, gets the answer.
		_, rerr := io.CopyBuffer(io.Discard, body, *buf)
		complete = rerr == nil
	}
	scanBufs.Put(buf)
	s.endBody(read, complete)
	if err != nil {
		s.decodeFailed(w, rc, err)
		return
	}
	// Keep only what the request's examples hold.
	hold := req.bytes() + s.info.resultBytes(req.n, req.dims)
	s.mem.release(reserved - hold)
	reserved = hold
	batch := s.maxBatch
	if req.dims != nil && s.info.fixed == 0 {
		// The model's working buffers grow with the request's sizes too:
		// feed no more examples at once than fit the memory limit.
		more := s.moreDims(req.dims)
		batch = min(batch, s.sig.Memory.MaxBatchWithin(satAdd(s.opt.MaxMemory, s.sig.Memory.ParamBytes), more...))
		if batch < 1 {
			arena, _ := s.sig.Memory.Arena(1, more...)
			s.writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request too large: at %s, the model's working buffers for one example take %d bytes, more than the server's memory limit of %d bytes (--request-memory)",
				s.info.describeDims(req.dims), arena, s.opt.MaxMemory))
			return
		}
	}

	topK := s.opt.TopK
	if req.topK >= 0 {
		topK = req.topK
	}
	if topK > 0 && s.info.classes == 0 {
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("top_k needs a classifier, a model whose only output has one vector of class scores per example; model %s outputs %s", s.name, s.info.describeOutputs()))
		return
	}

	j := &job{
		n:     req.n,
		in:    req.in,
		dims:  req.dims,
		batch: batch,
		out:   make([][]float32, len(s.info.outputs)),
		done:  make(chan error, 1),
		ctx:   r.Context(),
	}
	for i, t := range s.info.outputs {
		j.out[i] = make([]float32, req.n*t.size(req.dims))
	}
	queued = true
	s.arriving.Add(-1) // before queueing: the batcher then finds the job or stops waiting
	select {
	case s.queue <- j:
	default:
		s.wakeBatcher()
		w.Header().Set("Retry-After", "1")
		s.writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the server is busy: %d requests are waiting; retry later", cap(s.queue)))
		return
	}
	select {
	case err := <-j.done:
		if err != nil {
			s.writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	case <-r.Context().Done():
		// The client is gone, but the job holds its inputs and outputs
		// until the batcher drops it (which it does as soon as it reaches
		// it): keep them reserved until then.
		select {
		case <-j.done:
		case <-s.stopped:
		}
		return
	case <-s.stopped:
		w.Header().Set("Retry-After", "1")
		s.writeError(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	s.requests.Add(1)
	answer := encodeResponseAt(s.info, req.dims, req.columnar, topK, j.n, j.out)
	// Sending the answer may take as long as receiving a body (net/http
	// lifts the deadline once the answer is sent).
	rc.SetWriteDeadline(time.Now().Add(s.opt.BodyTimeout))
	s.writeJSON(w, http.StatusOK, answer)
}

// scanBufs holds the buffers request bodies are read through.
var scanBufs = sync.Pool{New: func() any { b := make([]byte, scanBufSize); return &b }}

// decodeFailed answers a request whose body could not be decoded.
func (s *Server) decodeFailed(w http.ResponseWriter, rc *http.ResponseController, err error) {
	var (
		tooLarge  *http.MaxBytesError
		tooMany   *tooManyError
		tooLarge2 *tooLargeError
	)
	switch {
	case errors.As(err, &tooLarge):
		s.writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.opt.MaxBody))
	case errors.As(err, &tooLarge2):
		s.writeError(w, http.StatusRequestEntityTooLarge, tooLarge2.msg)
	case errors.As(err, &tooMany):
		s.writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request too large: it holds more than %d examples, the most one request may hold within the server's memory limit of %d bytes", tooMany.max, s.opt.MaxMemory))
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection cannot carry another request: its body is unread.
		w.Header().Set("Connection", "close")
		rc.SetWriteDeadline(time.Now().Add(s.opt.BodyTimeout))
		if s.draining.Load() {
			w.Header().Set("Retry-After", "1")
			s.writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the server is shutting down, and the request body did not arrive within %v of it", s.opt.ShutdownGrace))
		} else {
			s.writeError(w, http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within %v", s.opt.BodyTimeout))
		}
	default: // malformed, or the client is gone
		s.writeError(w, http.StatusBadRequest, err.Error())
	}
}

// moreDims returns the sizes of the model's symbolic dimensions after
// the batch, in the order of Signature.SymbolicDims (as
// runtime.Memory.Arena takes them), from a request's dims; 1 for those
// the request does not give.
func (s *Server) moreDims(dims []int) []int {
	names := s.sig.SymbolicDims()
	more := make([]int, 0, len(names))
	for _, name := range names[min(1, len(names)):] {
		v := 1
		if i := slices.Index(s.info.syms, name); i >= 0 && dims[i] > 0 {
			v = dims[i]
		}
		more = append(more, v)
	}
	return more
}

// satAdd returns a+b, or the largest int64 when that overflows.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// wakeBatcher tells a batcher waiting for arriving requests to look again.
func (s *Server) wakeBatcher() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// serveMetadata answers GET /metadata in TensorFlow Serving's shape, with
// the model's own signature (without its graph) under "flow_signature".
func (s *Server) serveMetadata(w http.ResponseWriter) {
	type dim struct {
		Size string `json:"size"`
		Name string `json:"name"`
	}
	type shape struct {
		Dim         []dim `json:"dim"`
		UnknownRank bool  `json:"unknown_rank"`
	}
	type tensorInfo struct {
		DType       string `json:"dtype"`
		TensorShape shape  `json:"tensor_shape"`
		Name        string `json:"name"`
	}
	infos := func(specs []runtime.TensorSpec) map[string]tensorInfo {
		m := make(map[string]tensorInfo, len(specs))
		for _, spec := range specs {
			ti := tensorInfo{DType: tfDType(spec.DType), Name: spec.Name, TensorShape: shape{Dim: []dim{}}}
			for i, d := range spec.Shape {
				n := ""
				if i < len(spec.Dims) {
					n = spec.Dims[i]
				}
				ti.TensorShape.Dim = append(ti.TensorShape.Dim, dim{Size: strconv.Itoa(d), Name: n})
			}
			m[spec.Name] = ti
		}
		return m
	}
	inputs := make([]runtime.TensorSpec, len(s.info.inputs))
	for i, t := range s.info.inputs {
		inputs[i] = t.spec
	}
	outputs := make([]runtime.TensorSpec, len(s.info.outputs))
	for i, t := range s.info.outputs {
		outputs[i] = t.spec
	}
	sig := *s.sig
	sig.Graph = nil
	body := map[string]any{
		"model_spec": map[string]string{"name": s.name, "signature_name": "", "version": "1"},
		"metadata": map[string]any{
			"signature_def": map[string]any{
				"signature_def": map[string]any{
					"serving_default": map[string]any{
						"inputs":      infos(inputs),
						"outputs":     infos(outputs),
						"method_name": "tensorflow/serving/predict",
					},
				},
			},
			"flow_signature": &sig,
			"serving": map[string]any{
				"max_batch":    s.maxBatch,
				"max_delay":    s.opt.MaxDelay.String(),
				"queue":        s.opt.Queue,
				"max_body":     s.opt.MaxBody,
				"top_k":        s.opt.TopK,
				"max_memory":   s.opt.MaxMemory,
				"body_timeout": s.opt.BodyTimeout.String(),
				"classes":      s.info.classes,
			},
		},
	}
	b, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		s.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.writeJSON(w, http.StatusOK, append(b, '\n'))
}

// tfDType maps a flow dtype to TensorFlow's DataType name.
func tfDType(d string) string {
	switch d {
	case "f32":
		return "DT_FLOAT"
	case "f64":
		return "DT_DOUBLE"
	case "f16":
		return "DT_HALF"
	case "i32":
		return "DT_INT32"
	case "i64":
		return "DT_INT64"
	case "bool":
		return "DT_BOOL"
	}
	return "DT_INVALID"
}

// writeJSON answers with code and body. While the server shuts down,
// the answer closes its connection.
func (s *Server) writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(code)
	w.Write(body)
}

// writeError answers with code and {"error": msg}.
func (s *Server) writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	s.writeJSON(w, code, append(b, '\n'))
}
