package main

import "net/http"

// httpTransport gives each test client its own connections, so closing
// them leaves no goroutines behind for goleak.
type httpTransport struct{ tr *http.Transport }

func (h *httpTransport) client() *http.Client {
	h.tr = &http.Transport{}
	return &http.Client{Transport: h.tr}
}

func (h *httpTransport) close() { h.tr.CloseIdleConnections() }
