// cpo-fault-proxy: a loopback HTTPS proxy in front of kube-apiserver that injects
// faults at set rates (latency, HTTP 500, HTTP 429 with Retry-After, connections
// dropped before or after the API server acted, a blackhole that cuts every stream) and counts what passed, for the
// operator's fault tests. Bearer tokens pass through, so the clients keep their own
// identities; client certificates do not (the harness's identities are tokens).
//
//	cpo-fault-proxy --upstream https://127.0.0.1:PORT --upstream-ca CA --dir DIR
//
// It serves TLS with a self-signed certificate for 127.0.0.1 written to DIR/ca.crt,
// and writes DIR/address (https://127.0.0.1:PORT, the proxy) and DIR/control
// (http://127.0.0.1:PORT, plain HTTP) once both listen. Control API:
//
//	GET  /faults          the current faults (JSON, see Faults)
//	PUT  /faults          replace them (400 with the reason when invalid)
//	GET  /stats           counts since start or the last reset (JSON, see Stats)
//	POST /reset           zero the counts
//	POST /cut             close every open proxied connection (watches end)
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	upstream := flag.String("upstream", "", "the API server's URL (https://127.0.0.1:PORT)")
	upstreamCA := flag.String("upstream-ca", "", "the CA that signed the API server's certificate")
	dir := flag.String("dir", "", "where ca.crt, address and control are written")
	listen := flag.String("listen", "127.0.0.1:0", "the proxy's address")
	controlListen := flag.String("control-listen", "127.0.0.1:0", "the control API's address")
	flag.Parse()
	if *upstream == "" || *upstreamCA == "" || *dir == "" {
		fmt.Fprintln(os.Stderr, "cpo-fault-proxy: --upstream, --upstream-ca and --dir are required")
		os.Exit(2)
	}
	for _, a := range []string{*listen, *controlListen} {
		if host, _, err := net.SplitHostPort(a); err != nil || host != "127.0.0.1" {
			fmt.Fprintf(os.Stderr, "cpo-fault-proxy: %q: only 127.0.0.1 addresses are served\n", a)
			os.Exit(2)
		}
	}
	if err := run(*upstream, *upstreamCA, *dir, *listen, *controlListen); err != nil {
		fmt.Fprintln(os.Stderr, "cpo-fault-proxy:", err)
		os.Exit(1)
	}
}

func run(upstream, upstreamCA, dir, listen, controlListen string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	injector := NewInjector()
	proxy, err := NewProxy(upstream, upstreamCA, injector)
	if err != nil {
		return err
	}
	cert, err := selfSigned(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return err
	}
	proxyLn, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	controlLn, err := net.Listen("tcp", controlListen)
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:   proxy,
		ConnState: proxy.track,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		// HTTP/1.1 only, as the operator's client speaks it.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(os.Stderr, "cpo-fault-proxy: ", 0),
	}
	control := &http.Server{Handler: controlAPI(injector, proxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.ServeTLS(proxyLn, "", "") }()
	go func() { _ = control.Serve(controlLn) }()
	if err := writeAtomic(filepath.Join(dir, "control"), "http://"+controlLn.Addr().String()+"\n"); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, "address"), "https://"+proxyLn.Addr().String()+"\n"); err != nil {
		return err
	}
	log.Printf("cpo-fault-proxy: https://%s -> %s, control http://%s", proxyLn.Addr(), upstream, controlLn.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	_ = control.Close()
	_ = server.Close()
	return nil
}

// selfSigned makes a P-256 certificate for 127.0.0.1 that is its own CA, written to path.
func selfSigned(path string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cpo-fault-proxy"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeAtomic(path, string(certPEM)); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func writeAtomic(path, text string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
