package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Proxy forwards to the API server, applying the injector's verdict to each request.
type Proxy struct {
	forward  *httputil.ReverseProxy
	injector *Injector
	mu       sync.Mutex
	open     map[net.Conn]struct{}
}

func NewProxy(upstream, caFile string, injector *Injector) (*Proxy, error) {
	target, err := url.Parse(upstream)
	if err != nil || target.Scheme != "https" {
		return nil, fmt.Errorf("--upstream %q: not an https URL", upstream)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate in it", caFile)
	}
	p := &Proxy{injector: injector, open: map[net.Conn]struct{}{}}
	p.forward = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
		FlushInterval: -1, // watch events reach the client as they come
		ModifyResponse: func(resp *http.Response) error {
			injector.Upstream(resp.StatusCode)
			return nil
		},
		// The API server unreachable (restarting): the client sees its connection
		// fail, as it would without the proxy, not a 502 the server never sent.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { hangUp(w) },
	}
	return p, nil
}

func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1" || strings.Contains(r.URL.Path, "/watch/")
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.RequestURI()
	v := p.injector.Decide(r.Method, r.URL.Path, key, isWatch(r), time.Now())
	if v.Delay > 0 {
		time.Sleep(v.Delay)
	}
	switch v.Code {
	case -1:
		_, _ = io.Copy(io.Discard, r.Body)
		hangUp(w)
	case -2:
		// The API server acts on it; the client never learns the outcome.
		p.forward.ServeHTTP(httptest.NewRecorder(), r)
		hangUp(w)
	case 500:
		writeStatus(w, 500, "InternalError", "injected by cpo-fault-proxy", 0)
	case 429:
		retry := p.injector.Faults().RetryAfterS
		w.Header().Set("Retry-After", fmt.Sprint(retry))
		writeStatus(w, 429, "TooManyRequests", "injected by cpo-fault-proxy: too many requests", retry)
	default:
		p.forward.ServeHTTP(w, r)
	}
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection
}

// writeStatus answers as the API server does: a metav1.Status body.
func writeStatus(w http.ResponseWriter, code int, reason, message string, retryAfter int) {
	status := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	}
	if retryAfter > 0 {
		status["details"] = map[string]any{"retryAfterSeconds": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// track keeps the open client connections, so that /cut and a blackhole can end them.
func (p *Proxy) track(conn net.Conn, state http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch state {
	case http.StateNew:
		p.open[conn] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(p.open, conn)
	}
}

// Cut closes every open client connection; returns how many.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.open))
	for c := range p.open {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	p.injector.AddCut(len(conns))
	return len(conns)
}
