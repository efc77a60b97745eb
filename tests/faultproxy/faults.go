package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"regexp"
	"sync"
	"time"
)

// Faults is what the proxy does to the requests it forwards. Rates are per request,
// in [0, 1], drawn from a seeded generator so that a run repeats.
type Faults struct {
	LatencyMs      int      `json:"latencyMs"` // added before forwarding
	JitterMs       int      `json:"jitterMs"`  // plus uniform [0, jitter)
	Error500       float64  `json:"error500"`  // answer 500 InternalError
	Error429       float64  `json:"error429"`  // answer 429 TooManyRequests with Retry-After
	RetryAfterS    int      `json:"retryAfterSeconds"`
	Drop           float64  `json:"drop"`           // close the connection, no answer
	DropAfter      float64  `json:"dropAfter"`      // forward, then close without the answer
	Blackhole      bool     `json:"blackhole"`      // drop every request and cut open streams
	IncludeWatches bool     `json:"includeWatches"` // faults apply to watch requests too
	Path           string   `json:"path"`           // only requests whose path matches (regexp)
	Methods        []string `json:"methods"`        // only these methods (empty: all)
	Seed           int64    `json:"seed"`

	pathRE *regexp.Regexp
}

func (f *Faults) compile() error {
	if f.Path != "" {
		re, err := regexp.Compile(f.Path)
		if err != nil {
			return fmt.Errorf("path: %v", err)
		}
		f.pathRE = re
	}
	rates := map[string]float64{"error500": f.Error500, "error429": f.Error429, "drop": f.Drop, "dropAfter": f.DropAfter}
	for name, rate := range rates {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("%s: %v is not a rate in [0, 1]", name, rate)
		}
	}
	if f.Error429 > 0 && f.RetryAfterS <= 0 {
		f.RetryAfterS = 1
	}
	if f.LatencyMs < 0 || f.JitterMs < 0 {
		return fmt.Errorf("latencyMs and jitterMs must not be negative")
	}
	if f.Error500+f.Error429+f.Drop+f.DropAfter > 1 {
		return fmt.Errorf("the rates add up to more than 1")
	}
	return nil
}

func (f *Faults) applies(method, path string, watch bool) bool {
	if watch && !f.IncludeWatches {
		return false
	}
	if f.pathRE != nil && !f.pathRE.MatchString(path) {
		return false
	}
	if len(f.Methods) == 0 {
		return true
	}
	for _, m := range f.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// Verdict is the fault chosen for one request.
type Verdict struct {
	Delay time.Duration
	Code  int // 0: forward; 500 or 429: answer that; -1: drop; -2: forward, drop the answer
}

// Stats counts what passed through, as the tests assert on it.
type Stats struct {
	Requests      int            `json:"requests"`
	ByMethod      map[string]int `json:"byMethod"`
	Watches       int            `json:"watches"`
	Injected500   int            `json:"injected500"`
	Injected429   int            `json:"injected429"`
	Dropped       int            `json:"dropped"`
	DroppedAfter  int            `json:"droppedAfter"`  // forwarded, the answer not delivered
	Cut           int            `json:"cut"`           // open connections closed by blackhole or /cut
	RetryGapsMs   []int64        `json:"retryGapsMs"`   // a 429'd request, to its next identical one
	UpstreamCodes map[string]int `json:"upstreamCodes"` // answers forwarded, by status code
}

// Injector decides faults and keeps the counts; safe for concurrent use.
type Injector struct {
	mu        sync.Mutex
	faults    Faults
	rng       *rand.Rand
	stats     Stats
	throttled map[string]time.Time // request key -> when it was answered 429
}

func NewInjector() *Injector {
	in := &Injector{}
	in.Reset()
	in.faults = Faults{}
	in.rng = rand.New(rand.NewSource(1))
	return in
}

func (in *Injector) Set(f Faults) error {
	if err := f.compile(); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = f
	seed := f.Seed
	if seed == 0 {
		seed = 1
	}
	in.rng = rand.New(rand.NewSource(seed))
	return nil
}

func (in *Injector) Faults() Faults {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.faults
}

func (in *Injector) Reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stats = Stats{ByMethod: map[string]int{}, UpstreamCodes: map[string]int{}, RetryGapsMs: []int64{}}
	in.throttled = map[string]time.Time{}
}

// Decide counts the request and picks its fault.
func (in *Injector) Decide(method, path, key string, watch bool, now time.Time) Verdict {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stats.Requests++
	in.stats.ByMethod[method]++
	if watch {
		in.stats.Watches++
	}
	if at, ok := in.throttled[key]; ok {
		in.stats.RetryGapsMs = append(in.stats.RetryGapsMs, now.Sub(at).Milliseconds())
		delete(in.throttled, key)
	}
	f := &in.faults
	if f.Blackhole {
		in.stats.Dropped++
		return Verdict{Code: -1}
	}
	if !f.applies(method, path, watch) {
		return Verdict{}
	}
	v := Verdict{Delay: time.Duration(f.LatencyMs) * time.Millisecond}
	if f.JitterMs > 0 {
		v.Delay += time.Duration(in.rng.Intn(f.JitterMs)) * time.Millisecond
	}
	r := in.rng.Float64()
	switch {
	case r < f.Drop:
		in.stats.Dropped++
		v.Code = -1
	case r < f.Drop+f.Error500:
		in.stats.Injected500++
		v.Code = 500
	case r < f.Drop+f.Error500+f.Error429:
		in.stats.Injected429++
		in.throttled[key] = now
		v.Code = 429
	case r < f.Drop+f.Error500+f.Error429+f.DropAfter && !watch:
		in.stats.DroppedAfter++
		v.Code = -2
	}
	return v
}

func (in *Injector) Upstream(code int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stats.UpstreamCodes[fmt.Sprint(code)]++
}

func (in *Injector) AddCut(n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stats.Cut += n
}

func (in *Injector) StatsJSON() []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	b, _ := json.Marshal(in.stats)
	return b
}
