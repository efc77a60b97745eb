package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
)

func controlAPI(injector *Injector, proxy *Proxy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, injector.Faults())
	})
	mux.HandleFunc("PUT /faults", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var f Faults
		if err == nil {
			err = json.Unmarshal(body, &f)
		}
		if err == nil {
			err = injector.Set(f)
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("faults: %v", err), http.StatusBadRequest)
			return
		}
		cut := 0
		if f.Blackhole {
			cut = proxy.Cut() // a blackhole ends the open streams too
		}
		log.Printf("cpo-fault-proxy: faults now %s (cut %d connections)", body, cut)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(injector.StatsJSON())
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		injector.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /cut", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]int{"cut": proxy.Cut()})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
